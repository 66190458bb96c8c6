"""Meters, zone and times shared by the collector tests."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from collector.router import Router
from levy.core.model import Measure, Reading
from levy.core.units import datetime_to_ms

ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")  # has clock changes: 2026-03-29 and 2026-10-25 at 01:00Z
RECEIVED = datetime_to_ms(datetime(2026, 11, 24, 23, 21, 42, tzinfo=UTC))


@dataclass(frozen=True)
class Meter:
    """A meter binding as the configuration would give it."""

    id: str
    topic: str
    format: str
    channel: int | None = None
    component: str | None = None
    measure: Measure | None = None
    """None: decided by the first valid reading (the configuration's default)."""


def router(*meters: Meter) -> Router:
    return Router(meters, ALMATY)


def utc_ms(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=UTC))


def local_ms(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=ALMATY))


def reading_times(meter: Meter, payload: bytes, *received_ms: int) -> list[int]:
    """The time of the one reading `payload` gives `meter` in Berlin, at each receive time (a
    naive local time around a clock change depends on it)."""
    times = []
    for received in received_ms:
        [reading] = Router([meter], BERLIN).route(meter.topic, payload, received)
        assert isinstance(reading, Reading), reading
        times.append(reading.ts_ms)
    return times
