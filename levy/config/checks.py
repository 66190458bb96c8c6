"""Checks across entries and tables: on a valid configuration, and on the valid parts of one
that is not (so that every error is listed in one run)."""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from collector import formats
from levy.config.context import LoadContext
from levy.config.errors import Location
from levy.config.meters import MeterConfig
from levy.config.records import Meter
from levy.config.sections import DEFAULT_RATES, LedgerConfig, MqttConfig, RateConfig
from levy.config.site import SiteConfig
from levy.config.topics import subscription
from levy.config.values import utc

Where = Callable[[Location], str]


def cross_checks(config: SiteConfig, where: Where) -> list[str]:
    meters = config.meters
    return [
        *([] if _distinct(meters) else _unique_meters([_Source.of(m) for m in meters], where)),
        *_rates_in_order(config.rates, config.ledger.accounting_start, where),
        *_topics_subscribed(config.mqtt.topics, enumerate(meters), where),
    ]


def _distinct(meters: Sequence[Meter]) -> bool:
    """Whether every meter has an id and a topic of its own, and so none is another's duplicate:
    the usual site need not make each meter's `_Source` (20 MiB at 100,000 meters)."""
    ids, topics = {meter.id for meter in meters}, {meter.topic for meter in meters}
    return len(ids) == len(meters) == len(topics)


def partial_checks(data: Mapping[str, Any], context: LoadContext, where: Where) -> list[str]:
    """The same checks on a document that failed validation, so that its duplicates are listed
    with its other errors: each over the parts that are valid on their own (meter ids and
    topics as written, whatever else is wrong with their meter)."""
    raw_meters = data.get("meters")
    entries = raw_meters if isinstance(raw_meters, list) else []
    meters = {index: _alone(MeterConfig, entry, context) for index, entry in enumerate(entries)}
    valid = [(index, meter) for index, meter in meters.items() if meter is not None]
    sources = [_Source.of(meters[index] or entry) for index, entry in enumerate(entries)]
    listed = _listed(data, "rates", DEFAULT_RATES)
    rates = [rate for each in listed if (rate := _alone(RateConfig, each, context)) is not None]
    ledger = _alone(LedgerConfig, data.get("ledger", {}), context)
    mqtt = _alone(MqttConfig, data.get("mqtt", {}), context)
    return [
        *_unique_meters(sources, where),
        *(
            _rates_in_order(rates, ledger.accounting_start if ledger else None, where)
            if rates and len(rates) == len(listed)
            else []
        ),
        *(_topics_subscribed(mqtt.topics, valid, where) if mqtt else []),
    ]


Model = TypeVar("Model", bound=BaseModel)


def _alone(model: type[Model], data: Any, context: LoadContext) -> Model | None:
    """`data` validated as `model` on its own, or None where it is not valid (its errors are
    reported by the whole document's validation)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError:
        return None


def _listed(data: Mapping[str, Any], key: str, default: Sequence[Any]) -> Sequence[Any]:
    value = data.get(key, default)
    return value if isinstance(value, list | tuple) else []


class _Source(NamedTuple):
    """What makes a meter the same as another: its id, and the reading it takes (topic,
    component, channel), from its validated entry or, for an invalid one, as written. (A tuple:
    one per meter.)"""

    id: object
    topic: object
    component: object
    channel: object

    @classmethod
    def of(cls, meter: object) -> "_Source":
        if isinstance(meter, MeterConfig | Meter):
            return cls(meter.id, meter.topic, meter.component, meter.channel)
        if not isinstance(meter, dict):
            return cls(None, None, None, None)
        component = meter.get("component")
        fmt = formats.find(meter.get("format"))
        if component is None and fmt is not None:
            component = fmt.defaults(meter).get("component")
        channel = meter.get("channel")
        if isinstance(channel, str) and channel.strip().isdigit():  # an inventory cell
            channel = int(channel)
        return cls(meter.get("id"), meter.get("topic"), component, channel)

    def describe(self) -> str:
        parts = [repr(self.topic)]
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.channel is not None:
            parts.append(f"channel {self.channel}")
        return ", ".join(parts)


def _unique_meters(meters: list[_Source], where: Where) -> Iterator[str]:
    """Two meters on one reading would bill the same energy twice."""
    ids: dict[str, int] = {}
    sources: dict[tuple[str, object, object], int] = {}
    for index, meter in enumerate(meters):
        if isinstance(meter.id, str):
            first = ids.setdefault(meter.id, index)
            if first != index:
                yield (
                    f"{where(('meters', index, 'id'))}: {meter.id!r} is already used by "
                    f"{where(('meters', first))}"
                )
        if not isinstance(meter.topic, str):
            continue
        first = sources.setdefault((meter.topic, meter.component, meter.channel), index)
        if first != index:
            yield (
                f"{where(('meters', index, 'topic'))}: {meter.describe()} is already read by "
                f"meter {meters[first].id!r} ({where(('meters', first))})"
            )


def _rates_in_order(
    rates: Sequence[RateConfig], start: datetime | None, where: Where
) -> Iterator[str]:
    for index in range(1, len(rates)):
        if utc(rates[index].from_) <= utc(rates[index - 1].from_):
            yield (
                f"{where(('rates', index, 'from'))}: should be later than the entry before "
                f"({rates[index - 1].from_.isoformat()})"
            )
    if start is not None and utc(start) < utc(rates[0].from_):
        yield (
            f"ledger.accounting_start: {start.isoformat()} is before the first rate "
            f"({where(('rates', 0, 'from'))} = {rates[0].from_.isoformat()}): no rate would apply"
        )


def _topics_subscribed(
    filters: Sequence[str], meters: Iterable[tuple[int, MeterConfig | Meter]], where: Where
) -> Iterator[str]:
    """A meter outside every subscription would never be heard, and be deemed at full power."""
    subscribed = subscription(filters)
    for index, meter in meters:
        topics = formats.get(meter.format).topics(meter)
        if not any(map(subscribed, topics)):
            listed = " or ".join(repr(topic) for topic in topics)
            yield f"{where(('meters', index, 'topic'))}: no mqtt.topics filter matches {listed}"
