"""`[[meters]]` and the inventory validated into `Meter`s.

The usual entry is an inventory row of text: an id, a topic, a format, a rating and perhaps a
supply, with nothing wrong. Validating 100,000 of them as `MeterConfig` models took a large
site's start about a second, so `PlainMeters` makes the same `Meter` from such an entry with the
same checks (`MeterConfig`'s, through the same functions and the format's own `defaults` and
`check`). Any other entry, and any that one of those checks has a problem with, is left to the
model, so that every error is the model's, word for word.
"""

import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError, ValidationInfo, ValidatorFunctionWrapHandler

from collector import formats
from levy.config.context import context_of
from levy.config.meters import MeterConfig, MeterFormat
from levy.config.records import Meter, meter_record, meter_records
from levy.config.topics import topic_problem
from levy.config.values import name_problem
from levy.core.model import Role, Supply

_KEYS = frozenset(("id", "topic", "format", "rated_kw", "supply"))
"""The keys of a plain entry; one with any other key is validated by the model."""
_RATING = re.compile(r"[0-9]+(?:\.[0-9]{1,3})?")
"""A rating as a plain decimal text: digits, at most 3 decimals (RatedKw), no sign or exponent."""
_SUPPLIES = {supply.value: supply for supply in Supply}
_NATIVE = MeterFormat.NATIVE.value
_UNSET = (None, None, None, None, None, Role.BILLED)
"""The fields after `supply` as a plain entry leaves them: MeterConfig's defaults."""
_ENTRY: TypeAdapter[MeterConfig] = TypeAdapter(MeterConfig)
_ENTRIES: TypeAdapter[list[MeterConfig]] = TypeAdapter(list[MeterConfig])


def validated_meters(
    value: Any, _handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> list[Meter]:
    """`[[meters]]` and the inventory as `Meter`s: a plain entry made without pydantic
    (`PlainMeters`), any other validated as a `MeterConfig` and converted at once, so that the
    models never all live together. Should one be invalid, the whole list is validated again as one,
    for every error where it was, as before."""
    if not isinstance(value, list):
        return meter_records(_ENTRIES.validate_python(value, context=info.context))
    ratings: dict[tuple[Any, ...], Decimal] = {}
    plain = PlainMeters(context_of(info).supply, ratings)
    meters = []
    for entry in value:
        meter = plain.meter(entry)
        if meter is None:
            try:
                meter = meter_record(_ENTRY.validate_python(entry, context=info.context), ratings)
            except ValidationError:
                return meter_records(_ENTRIES.validate_python(value, context=info.context))
        meters.append(meter)
    return meters


class PlainMeters:
    """Makes the `Meter`s of one list of entries; `ratings` shares equal ratings between them
    (see `records.meter_record`)."""

    def __init__(self, site_supply: Supply, ratings: dict[tuple[Any, ...], Decimal]) -> None:
        self._site_supply = site_supply
        self._ratings = ratings
        self._texts: dict[str, Decimal | None] = {}
        """Each rating's text as read (None: not plain), read once."""

    def meter(self, entry: object) -> Meter | None:
        """`entry` as the model would keep it, or None: the model is to validate it."""
        if type(entry) is not dict or not entry.keys() <= _KEYS:
            return None
        meter_id, topic = entry.get("id"), entry.get("topic")
        name = entry.get("format", _NATIVE)
        rated_kw = self._rating(entry.get("rated_kw"))
        supply = self._supply(entry)
        if (
            type(meter_id) is not str
            or type(topic) is not str
            or type(name) is not str
            or rated_kw is None
            or supply is None
            or name_problem(meter_id)
            or topic_problem(topic)
        ):
            return None
        fmt = formats.find(name)
        if fmt is None or fmt.defaults(_with_supply(entry, supply)):
            return None
        if fmt.check("topic", topic, {"id": meter_id, "format": name}):
            return None
        return Meter(meter_id, sys.intern(name), topic, rated_kw, supply, *_UNSET)

    def _supply(self, entry: Mapping[str, object]) -> Supply | None:
        if "supply" not in entry:
            return self._site_supply
        written = entry["supply"]
        return _SUPPLIES.get(written) if type(written) is str else None

    def _rating(self, text: object) -> Decimal | None:
        if type(text) is not str:
            return None
        if text not in self._texts:
            rated_kw = Decimal(text) if _RATING.fullmatch(text) else None
            if rated_kw is not None and rated_kw > 0:
                self._texts[text] = self._ratings.setdefault(rated_kw.as_tuple(), rated_kw)
            else:
                self._texts[text] = None
        return self._texts[text]


def _with_supply(entry: Mapping[str, object], supply: Supply) -> Mapping[str, object]:
    """The entry as the model's format defaults see it: with the site's supply where it has none."""
    return entry if "supply" in entry else {**entry, "supply": supply}
