"""Site-zone time arithmetic: clock hours, calendar months and quarters, in UTC milliseconds.

Intervals are split at every local clock hour, so a month (which starts at a local midnight)
never has to be split separately and each stored row belongs to exactly one month.

A local clock hour runs from one whole hour of the site's wall clock to the next, and a change of
offset also starts one, so hours partition time without gap or overlap in any zone: where the
offset moves by half an hour (Australia/Lord_Howe) the hour around the change is half an hour
long. Offsets are cached per UTC hour together with the one instant, if any, at which they change
inside it (found to the second), so whole, half- and quarter-hour offsets are all exact. Offset
changes are assumed to be more than an hour apart, as they are in every zone since 1970.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from levy.core.units import MS_PER_HOUR, MS_PER_S, datetime_to_ms, ms_to_datetime

MS_PER_DAY = 24 * MS_PER_HOUR
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
ONE_MS = timedelta(milliseconds=1)

PERIOD_PATTERN = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")


@dataclass(frozen=True, slots=True)
class Period:
    """A filing period: one calendar month or one quarter, in the site zone."""

    label: str
    year: int
    first_month: int
    months: int

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def quarter(self) -> str:
        """The label of the quarter this period starts in."""
        return f"{self.year}-Q{(self.first_month + 2) // 3}"

    def month_labels(self) -> list[str]:
        months = range(self.first_month, self.first_month + self.months)
        return [f"{self.year}-{month:02d}" for month in months]


FIRST_YEAR, LAST_YEAR = 2000, 2099
"""The years a period may name: those a payload time may carry (2000 to 2100)."""


def parse_period(text: str) -> Period:
    match = PERIOD_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"period {text!r} is neither YYYY-MM nor YYYY-Qn")
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"period {text!r} is out of range: years {FIRST_YEAR} to {LAST_YEAR}")
    if match.group(2):
        return Period(text.strip(), year, int(match.group(2)), 1)
    quarter = int(match.group(3))
    return Period(text.strip(), year, 3 * quarter - 2, 3)


class Calendar:
    """Answers "where is the next local hour" and "which month" quickly: offsets are cached per UTC
    hour with the instant they change at, month bounds per month, and the last month asked for."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._hours: dict[int, tuple[int | None, int, int]] = {}
        self._bounds: dict[tuple[int, int], int] = {}
        self._month: tuple[int, int, str] = (0, 0, "")

    def offset_ms(self, ms: int) -> int:
        """The zone's UTC offset at the instant `ms`."""
        change, before, after = self._hour(ms // MS_PER_HOUR)
        return after if change is not None and ms >= change else before

    def month_start(self, ms: int) -> int:
        """The start of the local month holding `ms`."""
        start, end, _ = self._month
        if not start <= ms < end:
            start, end, _ = self._month = self._month_of(ms)
        return start

    def hour_start(self, ms: int) -> int:
        """The local clock hour that contains `ms`, as a UTC instant."""
        hour = ms // MS_PER_HOUR
        change, before, after = self._hour(hour)
        offset = after if change is not None and ms >= change else before
        start = ms - (ms + offset) % MS_PER_HOUR
        if change is not None and start < change <= ms:
            return change
        earlier = self._hour(hour - 1)[0]
        if earlier is not None and start < earlier <= ms:
            return earlier
        return start

    def next_hour(self, ms: int) -> int:
        """The first local hour boundary strictly after `ms`."""
        hour = ms // MS_PER_HOUR
        change, before, after = self._hour(hour)
        offset = after if change is not None and ms >= change else before
        end = ms - (ms + offset) % MS_PER_HOUR + MS_PER_HOUR
        if change is not None and ms < change < end:
            return change
        later = self._hour(hour + 1)[0]
        if later is not None and ms < later < end:
            return later
        return end

    def local_midnight_ms(self, year: int, month: int, day: int = 1) -> int:
        """The first instant of a local date: its midnight, or where the clocks skip midnight,
        the instant they jump."""
        midnight = datetime(year, month, day, tzinfo=self.zone)
        first = datetime_to_ms(midnight)
        second = datetime_to_ms(midnight.replace(fold=1))
        if first <= second:
            return first
        return self._change_in(second, first, self._offset_at(second // MS_PER_S))

    def month_bounds(self, year: int, month: int) -> tuple[int, int]:
        end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
        return self._month_bound(year, month), self._month_bound(end_year, end_month)

    def period_bounds(self, period: Period) -> tuple[int, int]:
        start, _ = self.month_bounds(period.year, period.first_month)
        _, end = self.month_bounds(period.year, period.first_month + period.months - 1)
        return start, end

    def month_starts(self, low_ms: int, high_ms: int) -> list[int]:
        """The starts of the months from the one holding `low_ms` to the one holding `high_ms`."""
        starts = []
        month = self.month_start(low_ms)
        while month <= high_ms:
            starts.append(month)
            month = self.month_start(month + 32 * 24 * MS_PER_HOUR)
        return starts

    def month_label(self, ms: int) -> str:
        start, end, label = self._month
        if not start <= ms < end:
            start, end, label = self._month = self._month_of(ms)
        return label

    def iso(self, ms: int) -> str:
        """A UTC instant shown in the site zone, as an inspector reads it."""
        spec = "milliseconds" if ms % MS_PER_S else "seconds"
        return ms_to_datetime(ms).astimezone(self.zone).isoformat(timespec=spec)

    def _month_of(self, ms: int) -> tuple[int, int, str]:
        """The bounds and label of the month holding `ms`, from its local date; the bounds decide
        where a local date would not (clocks set back across a midnight)."""
        local = date.fromordinal(EPOCH_ORDINAL + (ms + self.offset_ms(ms)) // MS_PER_DAY)
        year, month = local.year, local.month
        while True:
            start, end = self.month_bounds(year, month)
            if ms < start:
                year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            elif ms >= end:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            else:
                return start, end, f"{year}-{month:02d}"

    def _month_bound(self, year: int, month: int) -> int:
        bound = self._bounds.get((year, month))
        if bound is None:
            bound = self._bounds[(year, month)] = self.local_midnight_ms(year, month)
        return bound

    def _hour(self, hour: int) -> tuple[int | None, int, int]:
        """For one UTC hour: the instant in (start, end] at which the offset changes (None if it
        doesn't), the offset at its start and the offset at its end."""
        cached = self._hours.get(hour)
        if cached is None:
            start, end = hour * MS_PER_HOUR, (hour + 1) * MS_PER_HOUR
            before = self._offset_at(start // MS_PER_S)
            after = self._offset_at(end // MS_PER_S)
            change = None if before == after else self._change_in(start, end, before)
            cached = self._hours[hour] = (change, before, after)
        return cached

    def _change_in(self, low: int, high: int, before: int) -> int:
        """The first whole second in (low, high] at which the offset is no longer `before`,
        given that it is `before` at `low` and not at `high` (tz data changes on whole seconds)."""
        low_s, high_s = low // MS_PER_S, high // MS_PER_S
        while high_s - low_s > 1:
            middle = (low_s + high_s) // 2
            if self._offset_at(middle) == before:
                low_s = middle
            else:
                high_s = middle
        return high_s * MS_PER_S

    def _offset_at(self, second: int) -> int:
        offset = datetime.fromtimestamp(second, self.zone).utcoffset()
        return 0 if offset is None else offset // ONE_MS
