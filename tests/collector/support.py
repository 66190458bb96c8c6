"""Meters, zone and times shared by the collector tests."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from collector.router import Router
from levy.core.model import Measure
from levy.core.units import datetime_to_ms

ALMATY = ZoneInfo("Asia/Almaty")
RECEIVED = datetime_to_ms(datetime(2026, 11, 24, 23, 21, 42, tzinfo=UTC))


@dataclass(frozen=True)
class Meter:
    """A meter binding as the configuration would give it."""

    id: str
    topic: str
    format: str
    channel: int | None = None
    component: str | None = None
    measure: Measure = Measure.ENERGY


def router(*meters: Meter) -> Router:
    return Router(meters, ALMATY)


def utc_ms(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=UTC))


def local_ms(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=ALMATY))
