"""What the configuration keeps of each meter once validated: one small tuple.

A site may have 100,000 meters. A validated pydantic `MeterConfig` weighs about 1.5 KB (its field
dict and its set of fields set); the tuple below, a fifth of that, is all the daemon needs. Equal
values many meters share (a rating, a format) are kept once.
"""

import sys
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from levy.config.meters import MeterConfig
from levy.core.model import Measure, Role, Supply


class Meter(NamedTuple):
    """A validated meter: `MeterConfig`'s fields, in its order (see there)."""

    id: str
    format: str
    topic: str
    rated_kw: Decimal
    supply: Supply
    commissioned_at: datetime | None
    decommissioned_at: datetime | None
    channel: int | None
    component: str | None
    measure: Measure | None
    role: Role


def meter_record(
    meter: MeterConfig, ratings: dict[tuple[Any, ...], Decimal] | None = None
) -> Meter:
    """`ratings` shares equal ratings between the meters of one list (by digits and exponent,
    so that `3.60` stays `3.60`)."""
    rated_kw = meter.rated_kw
    if ratings is not None:
        rated_kw = ratings.setdefault(rated_kw.as_tuple(), rated_kw)
    return Meter(
        meter.id,
        sys.intern(meter.format),
        meter.topic,
        rated_kw,
        meter.supply,
        meter.commissioned_at,
        meter.decommissioned_at,
        meter.channel,
        meter.component,
        meter.measure,
        meter.role,
    )


def meter_records(meters: Iterable[MeterConfig]) -> list[Meter]:
    ratings: dict[tuple[Any, ...], Decimal] = {}
    return [meter_record(meter, ratings) for meter in meters]
