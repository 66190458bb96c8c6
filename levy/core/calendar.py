"""Site-zone time arithmetic: clock hours, calendar months and quarters, in UTC milliseconds.

Intervals are split at every local clock hour, so a month (which starts at a local midnight)
never has to be split separately and each stored row belongs to exactly one month.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from levy.core.units import MS_PER_HOUR, MS_PER_S, datetime_to_ms, ms_to_datetime

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

    def month_labels(self) -> list[str]:
        months = range(self.first_month, self.first_month + self.months)
        return [f"{self.year}-{month:02d}" for month in months]


def parse_period(text: str) -> Period:
    match = PERIOD_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"period {text!r} is neither YYYY-MM nor YYYY-Qn")
    year = int(match.group(1))
    if match.group(2):
        return Period(text.strip(), year, int(match.group(2)), 1)
    quarter = int(match.group(3))
    return Period(text.strip(), year, 3 * quarter - 2, 3)


class Calendar:
    """Answers "where is the next local hour" quickly: offsets are cached per UTC hour."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, int] = {}
        self._month_starts: dict[int, int] = {}

    def offset_ms(self, ms: int) -> int:
        hour = ms // MS_PER_HOUR
        offset = self._offsets.get(hour)
        if offset is None:
            moment = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.zone)
            offset = int(moment.utcoffset().total_seconds() * MS_PER_S)  # type: ignore[union-attr]
            self._offsets[hour] = offset
        return offset

    def month_start(self, ms: int) -> int:
        """The start of the local month holding `ms`; cached per UTC hour like the offsets."""
        hour = ms // MS_PER_HOUR
        start = self._month_starts.get(hour)
        if start is None:
            local = ms_to_datetime(ms).astimezone(self.zone)
            start = self.local_midnight_ms(local.year, local.month)
            self._month_starts[hour] = start
        return start

    def hour_start(self, ms: int) -> int:
        """The local clock hour that contains `ms`, as a UTC instant."""
        offset = self.offset_ms(ms)
        return ms - (ms + offset) % MS_PER_HOUR

    def next_hour(self, ms: int) -> int:
        """The first local hour boundary strictly after `ms`."""
        candidate = self.hour_start(ms) + MS_PER_HOUR
        if self.offset_ms(candidate) == self.offset_ms(ms):
            return candidate
        aligned = self.hour_start(candidate)
        return aligned if aligned > ms else aligned + MS_PER_HOUR

    def local_midnight_ms(self, year: int, month: int, day: int = 1) -> int:
        return datetime_to_ms(datetime(year, month, day, tzinfo=self.zone))

    def month_bounds(self, year: int, month: int) -> tuple[int, int]:
        end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
        return self.local_midnight_ms(year, month), self.local_midnight_ms(end_year, end_month)

    def period_bounds(self, period: Period) -> tuple[int, int]:
        start, _ = self.month_bounds(period.year, period.first_month)
        _, end = self.month_bounds(period.year, period.first_month + period.months - 1)
        return start, end

    def month_label(self, ms: int) -> str:
        local = ms_to_datetime(ms).astimezone(self.zone)
        return f"{local.year}-{local.month:02d}"

    def iso(self, ms: int) -> str:
        """A UTC instant shown in the site zone, as an inspector reads it."""
        spec = "milliseconds" if ms % MS_PER_S else "seconds"
        return ms_to_datetime(ms).astimezone(self.zone).isoformat(timespec=spec)
