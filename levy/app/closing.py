"""Rule 10: closing (freezing) a month once the engine clock allows it."""

import logging

from collector.archive import ArchivePosition
from levy.app.errors import UsageError
from levy.app.journal import encode_position
from levy.app.site import Site
from levy.config import ConfigError
from levy.core.calendar import parse_period
from levy.core.engine import Engine
from levy.core.units import MS_PER_S
from levy.ledger.store import ClosedPeriod, Ledger
from levy.report.figures import accounted_months

log = logging.getLogger("levy.closing")


def sight_since(engine: Engine, end_ms: int, now_ms: int) -> int:
    """Milliseconds since `end_ms` in which the meters could be heard: the daemon's blind time
    (rule 6) does not count, as it does not count toward any meter's staleness."""
    return now_ms - end_ms - engine.blindness.overlap(end_ms, now_ms)


def closable(site: Site, engine: Engine, month: str, now_ms: int) -> bool:
    """Rule 10: a month can close once stale_after_s have passed since its end, blind time aside:
    the closing sweep then finds every meter that is still silent stale."""
    _, end = site.calendar.period_bounds(parse_period(month))
    return sight_since(engine, end, now_ms) >= site.rules.stale_after_ms


def too_early(site: Site, engine: Engine, month: str, now_ms: int) -> UsageError:
    _, end = site.calendar.period_bounds(parse_period(month))
    blind = engine.blindness.overlap(end, now_ms)
    if not blind:
        ready = site.calendar.iso(end + site.rules.stale_after_ms)
        return UsageError(
            f"period {month} cannot be closed yet: the clock is {site.calendar.iso(now_ms)}, "
            f"closing is possible from {ready}"
        )
    seen_s = max(0, sight_since(engine, end, now_ms)) // MS_PER_S
    return UsageError(
        f"period {month} cannot be closed yet: the daemon could hear its meters for {seen_s} s "
        f"since its end (it was blind for {blind // MS_PER_S} s), and closing needs "
        f"{site.rules.stale_after_ms // MS_PER_S} s"
    )


def months_to_close(site: Site, ledger: Ledger, label: str) -> list[str]:
    """The months of a period that end after the ledger's accounting start: a month before it
    has nothing to close. A period with none, or a label that names no period, is refused."""
    try:
        period = parse_period(label)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    start_ms = ledger.accounting_start_ms
    if start_ms is None:
        return period.month_labels()
    if site.calendar.period_bounds(period)[1] <= start_ms:
        raise UsageError(
            f"period {label} ends before the ledger's accounting start "
            f"{site.calendar.iso(start_ms)}: nothing is accounted in it, so nothing to close"
        )
    return accounted_months(site.calendar, period, start_ms)


def close_period(
    site: Site,
    ledger: Ledger,
    engine: Engine,
    label: str,
    now_ms: int,
    journal: str | None = None,
) -> list[str]:
    """Close a month, or each month of a quarter after the accounting start, at engine time
    `now_ms`; returns the months closed by this call. Too early is refused with the time from
    which it will succeed."""
    closed_now = []
    already = ledger.closed_periods()
    months = months_to_close(site, ledger, label)
    try:
        signer = site.config.evidence.signer()
    except ConfigError as exc:
        raise UsageError("; ".join(exc.problems)) from None
    for month in months:
        if month in already:
            continue
        start, end = site.calendar.period_bounds(parse_period(month))
        if not closable(site, engine, month, now_ms):
            raise too_early(site, engine, month, now_ms)
        ledger.commit(engine.apply([], now_ms=now_ms))
        behind = engine.behind(end)
        if behind:
            raise UsageError(
                f"period {month} cannot be closed yet: {', '.join(behind[:10])} not accounted "
                "to its end after the closing sweep"
            )
        ledger.mark_closed(ClosedPeriod(month, start, end, now_ms), journal, signer)
        engine.freeze_until(end)
        closed_now.append(month)
    return closed_now


def close_month(
    site: Site,
    ledger: Ledger,
    engine: Engine,
    month: str,
    now_ms: int,
    position: ArchivePosition | None = None,
) -> bool:
    """A close the daemon journaled (live, or replayed from its archive): one the rules refuse is
    logged and left for a later tick, the same live and in replay, never the end of either."""
    try:
        close_period(site, ledger, engine, month, now_ms, encode_position(position))
    except UsageError as refused:
        log.warning("%s", refused)
        return False
    return True
