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

from pydantic import TypeAdapter, ValidationError, ValidationInfo, ValidatorFunctionWrapHandler

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


_ENTRY: TypeAdapter[MeterConfig] = TypeAdapter(MeterConfig)
_ENTRIES: TypeAdapter[list[MeterConfig]] = TypeAdapter(list[MeterConfig])


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


def validated_meters(
    value: Any, _handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> list[Meter]:
    """`[[meters]]` and the inventory as `Meter`s, each entry validated as a `MeterConfig` and
    converted at once, so that the models never all live together. Should one be invalid, the
    whole list is validated again as one, for every error where it was, as before."""
    if not isinstance(value, list):
        return meter_records(_ENTRIES.validate_python(value, context=info.context))
    ratings: dict[tuple[Any, ...], Decimal] = {}
    meters = []
    for entry in value:
        try:
            meter = _ENTRY.validate_python(entry, context=info.context)
        except ValidationError:
            return meter_records(_ENTRIES.validate_python(value, context=info.context))
        meters.append(meter_record(meter, ratings))
    return meters
