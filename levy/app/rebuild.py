"""`verify --archive`: replay the raw archive (the same engine, levy.app.replay) into a scratch
ledger and compare its figures with the ledger's, month by month and meter by meter, exactly."""

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from levy.app.replay import replay
from levy.app.site import Site
from levy.config.sections import EvidenceConfig
from levy.core.calendar import parse_period
from levy.ledger.store import Ledger
from levy.ledger.verify import Passed, VerifyFailure, kwh
from levy.report.figures import DeemedSpan, MeterFigures, PeriodFigures, build_figures
from levy.report.rounding import tenge


def months_of(site: Site, ledger: Ledger, label: str | None) -> list[str]:
    """The period's months, or every month from the accounting start to the ledger clock's."""
    if label is not None:
        return parse_period(label).month_labels()
    start = ledger.accounting_start_ms or ledger.clock_ms
    months = site.calendar.month_starts(start, max(ledger.clock_ms, start))
    return [site.calendar.month_label(month) for month in months]


def scratch_site(site: Site, folder: Path) -> Site:
    """The same configuration, writing to a ledger in `folder` and signing nothing."""
    config = site.config.model_copy(
        update={
            "ledger": site.config.ledger.model_copy(update={"path": folder / "scratch.sqlite"}),
            "evidence": EvidenceConfig(),
        }
    )
    return Site(config, site.calendar, site.rates, site.rules)


def compare_with_replay(site: Site, ledger: Ledger, archive: Path, label: str | None) -> Passed:
    """A folder is the daemon's archive and replays as it was journaled; a recorded feed is
    swept to the ledger clock, as `replay` swept the ledger it built."""
    months = months_of(site, ledger, label)
    until = None if archive.is_dir() else ledger.clock_ms
    with tempfile.TemporaryDirectory(prefix="levy-verify-") as folder:
        scratch = scratch_site(site, Path(folder))
        with Ledger(scratch.config.ledger.path) as rebuilt:
            replay(scratch, rebuilt, [archive], ledger.accounting_start_ms, until)
            for month in months:
                ours, theirs = (
                    build_figures(book, site.id, site.calendar, site.rates, parse_period(month))
                    for book in (ledger, rebuilt)
                )
                difference = next(_differences(ours, theirs, site.calendar.iso), None)
                if difference is not None:
                    raise VerifyFailure("archive", f"{month}, {difference}")
    return Passed(
        "archive",
        f"{archive} replayed into a scratch ledger: {', '.join(months)} equal the ledger's, "
        "meter by meter (metered and deemed energy, fees at their rates, deemed spans with "
        "their reasons) and rate by rate",
    )


def _differences(
    ours: PeriodFigures, replayed: PeriodFigures, iso: Callable[[int], str]
) -> Iterator[str]:
    """What differs, first difference first: meters in order, then each supply's rate lines."""
    for key in sorted(ours.meters.keys() | replayed.meters.keys()):
        meter, supply, rated_w = key
        named = f"meter {meter} ({supply.value}, {rated_w} W)"
        mine, theirs = ours.meters.get(key), replayed.meters.get(key)
        if mine is None or theirs is None:
            side = "the replay" if mine is None else "the ledger"
            yield f"{named}: only {side} bills it"
            continue
        yield from _meter_differences(named, mine, theirs, iso)
    for supply, lines in ours.lines.items():
        theirs_lines = replayed.lines[supply]
        for mine_line, their_line in zip(lines, theirs_lines, strict=False):
            if mine_line != their_line:
                a, b = mine_line.energy.total_mj, their_line.energy.total_mj
                yield (
                    f"{supply.value} at {mine_line.per_kwh} tenge/kWh: the ledger has {kwh(a)}, "
                    f"the replay {kwh(b)}"
                )
        if len(lines) != len(theirs_lines):
            yield (
                f"{supply.value}: the ledger bills {len(lines)} rates, the replay "
                f"{len(theirs_lines)}"
            )


def _meter_differences(
    named: str, mine: MeterFigures, theirs: MeterFigures, iso: Callable[[int], str]
) -> Iterator[str]:
    for basis in ("metered_mj", "deemed_mj"):
        a, b = getattr(mine.energy, basis), getattr(theirs.energy, basis)
        if a != b:
            yield (
                f"{named}, {basis[:-3]}: the ledger has {kwh(a)} ({a} mJ), the replay "
                f"{kwh(b)} ({b} mJ)"
            )
    if mine.fee != theirs.fee:
        yield (
            f"{named}: the ledger bills {tenge(mine.fee)} tenge ({mine.fee}), the replay "
            f"{tenge(theirs.fee)} ({theirs.fee})"
        )
    for index in range(max(len(mine.deemed), len(theirs.deemed))):
        a_span = mine.deemed[index] if index < len(mine.deemed) else None
        b_span = theirs.deemed[index] if index < len(theirs.deemed) else None
        if a_span != b_span:
            yield (
                f"{named}, deemed span {index + 1}: the ledger has {_span(a_span, iso)}, the "
                f"replay {_span(b_span, iso)}"
            )


def _span(span: DeemedSpan | None, iso: Callable[[int], str]) -> str:
    if span is None:
        return "no such span"
    return f"{iso(span.start_ms)} to {iso(span.end_ms)} {span.reason.value} {kwh(span.energy_mj)}"
