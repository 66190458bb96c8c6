"""Rule 10: closing (freezing) a month once the engine clock allows it."""

from levy.app.errors import UsageError
from levy.app.site import Site
from levy.core.calendar import parse_period
from levy.core.engine import Engine
from levy.ledger.store import ClosedPeriod, Ledger


def closable_from_ms(site: Site, month: str) -> int:
    """Rule 10: a month can close once the clock is stale_after_s past its end."""
    _, end = site.calendar.period_bounds(parse_period(month))
    return end + site.rules.stale_after_ms


def close_period(
    site: Site,
    ledger: Ledger,
    engine: Engine,
    label: str,
    now_ms: int,
    journal: str | None = None,
) -> list[str]:
    """Close a month, or each month of a quarter, at engine time `now_ms`; returns the months
    closed by this call. Too early is refused with the time from which it will succeed."""
    closed_now = []
    already = ledger.closed_periods()
    for month in parse_period(label).month_labels():
        if month in already:
            continue
        start, end = site.calendar.period_bounds(parse_period(month))
        ready_ms = closable_from_ms(site, month)
        if now_ms < ready_ms:
            raise UsageError(
                f"period {month} cannot be closed yet: the clock is {site.calendar.iso(now_ms)}, "
                f"closing is possible from {site.calendar.iso(ready_ms)}"
            )
        ledger.commit(engine.apply([], now_ms=now_ms))
        behind = engine.behind(end)
        if behind:
            raise RuntimeError(f"after the closing sweep, {behind} are not accounted to {end} ms")
        ledger.mark_closed(ClosedPeriod(month, start, end, now_ms), journal)
        engine.freeze_until(end)
        closed_now.append(month)
    return closed_now
