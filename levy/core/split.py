"""Rule 8: cutting an interval at local clock hours and rate changes, conserving energy exactly."""

from levy.core.calendar import Calendar
from levy.core.model import Interval
from levy.core.rates import RateSchedule


def next_cut(calendar: Calendar, rates: RateSchedule, ms: int) -> int:
    """The first instant after `ms` at which a stored row must end: an hour or a rate change."""
    hour = calendar.next_hour(ms)
    rate = rates.next_boundary(ms)
    return hour if rate is None or rate > hour else rate


def bucket_start(calendar: Calendar, rates: RateSchedule, ms: int) -> int:
    """The start of the part of a month under one rate step that holds `ms`: what per-bucket
    totals are keyed by."""
    return max(calendar.month_start(ms), rates.step_at(ms).from_ms)


def split(interval: Interval, calendar: Calendar, rates: RateSchedule) -> list[Interval]:
    """Pieces in time proportion. Each piece's energy is the difference of rounded cumulative
    shares, so the pieces add up to the whole exactly; deemed pieces (rated W x ms) stay exact."""
    start, end, energy = interval.start_ms, interval.end_ms, interval.energy_mj
    if next_cut(calendar, rates, start) >= end:
        return [interval]
    total = end - start
    pieces = []
    cursor, given = start, 0
    while cursor < end:
        stop = min(next_cut(calendar, rates, cursor), end)
        share = (2 * energy * (stop - start) + total) // (2 * total)
        pieces.append(interval._replace(start_ms=cursor, end_ms=stop, energy_mj=share - given))
        cursor, given = stop, share
    return pieces
