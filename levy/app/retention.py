"""When the raw archive may let an hour go: the archive is the evidence an inspector re-runs to
reproduce a filed figure, so an hour is kept while any month it falls in is open, and for
`keep_closed_years` after that month was closed (the tax audit period, 5 years in Kazakhstan).

Closed periods carry their own UTC bounds, so no calendar or zone is needed here: an hour may go
when the closed months that are old enough cover it wholly. A UTC hour that straddles two local
months (a half-hour zone) is covered only when both are.
"""

from collections.abc import Callable, Iterable, Mapping

from collector.archive import DeletionGuard
from levy.core.units import datetime_to_ms, ms_to_datetime
from levy.ledger.store import ClosedPeriod


def closed_long_enough(
    closed: Callable[[], Mapping[str, ClosedPeriod]],
    keep_years: int,
    now: Callable[[], int],
) -> DeletionGuard:
    """The archive's deletion guard: True for `[start_ms, end_ms)` only when every month
    overlapping it is closed and was closed at least `keep_years` calendar years before `now()`.

    `closed` is read at every question (say `ledger.closed_periods`): the daemon closes months
    while it runs."""

    def may_delete(start_ms: int, end_ms: int) -> bool:
        now_ms = now()
        old_enough = (
            period
            for period in closed().values()
            if period.start_ms < end_ms
            and start_ms < period.end_ms
            and years_after(period.closed_at_ms, keep_years) <= now_ms
        )
        return _covers(old_enough, start_ms, end_ms)

    return may_delete


def years_after(ms: int, years: int) -> int:
    """The same UTC instant `years` calendar years later; 29 February moves to 1 March."""
    moment = ms_to_datetime(ms)
    try:
        later = moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        later = moment.replace(year=moment.year + years, month=3, day=1)
    return datetime_to_ms(later)


def _covers(periods: Iterable[ClosedPeriod], start_ms: int, end_ms: int) -> bool:
    """Whether the union of the periods' `[start_ms, end_ms)` holds all of `[start_ms, end_ms)`;
    an empty span is not covered, so a malformed question deletes nothing."""
    if end_ms <= start_ms:
        return False
    reached = start_ms
    for period in sorted(periods, key=lambda period: period.start_ms):
        if period.start_ms > reached:
            return False
        reached = max(reached, period.end_ms)
        if reached >= end_ms:
            return True
    return False
