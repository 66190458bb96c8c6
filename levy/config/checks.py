"""Checks across entries and tables, run once every entry is valid on its own."""

from collections.abc import Callable, Iterator

from levy.config.errors import Location
from levy.config.meters import MeterConfig, MeterFormat
from levy.config.site import SiteConfig
from levy.config.topics import matches
from levy.config.values import utc
from levy.core.model import Measure

Where = Callable[[Location], str]


def cross_checks(config: SiteConfig, where: Where) -> list[str]:
    return [
        *_unique_meters(config.meters, where),
        *_rates_in_order(config, where),
        *_topics_subscribed(config, where),
    ]


def _unique_meters(meters: list[MeterConfig], where: Where) -> Iterator[str]:
    """Two meters on one reading would bill the same energy twice."""
    ids: dict[str, int] = {}
    sources: dict[tuple[str, str | None, int | None], int] = {}
    for index, meter in enumerate(meters):
        first = ids.setdefault(meter.id, index)
        if first != index:
            yield (
                f"{where(('meters', index, 'id'))}: {meter.id!r} is already used by "
                f"{where(('meters', first))}"
            )
        key = (meter.topic, meter.component, meter.channel)
        first = sources.setdefault(key, index)
        if first != index:
            yield (
                f"{where(('meters', index, 'topic'))}: {_describe(meter)} is already read by "
                f"meter {meters[first].id!r} ({where(('meters', first))})"
            )


def _describe(meter: MeterConfig) -> str:
    parts = [repr(meter.topic)]
    if meter.component is not None:
        parts.append(f"component {meter.component}")
    if meter.channel is not None:
        parts.append(f"channel {meter.channel}")
    return ", ".join(parts)


def _rates_in_order(config: SiteConfig, where: Where) -> Iterator[str]:
    rates = config.rates
    for index in range(1, len(rates)):
        if utc(rates[index].from_) <= utc(rates[index - 1].from_):
            yield (
                f"{where(('rates', index, 'from'))}: should be later than the entry before "
                f"({rates[index - 1].from_.isoformat()})"
            )
    start = config.ledger.accounting_start
    if start is not None and utc(start) < utc(rates[0].from_):
        yield (
            f"ledger.accounting_start: {start.isoformat()} is before the first rate "
            f"({where(('rates', 0, 'from'))} = {rates[0].from_.isoformat()}): no rate would apply"
        )


def _topics_subscribed(config: SiteConfig, where: Where) -> Iterator[str]:
    """A meter outside every subscription would never be heard, and be deemed at full power."""
    filters = config.mqtt.topics
    for index, meter in enumerate(config.meters):
        topics = _topics_read(meter)
        if not any(matches(each, topic) for each in filters for topic in topics):
            listed = " or ".join(repr(topic) for topic in topics)
            yield f"{where(('meters', index, 'topic'))}: no mqtt.topics filter matches {listed}"


def _topics_read(meter: MeterConfig) -> list[str]:
    """The topics DESIGN.md section 4 says a meter's readings arrive on."""
    if meter.format is MeterFormat.SHELLY:
        return [f"{meter.topic}/status/{meter.component}", f"{meter.topic}/events/rpc"]
    if meter.format is MeterFormat.MBMD:
        # Unpinned, an mbmd meter bills on its register (Import).
        return [f"{meter.topic}/{'Power' if meter.measure is Measure.POWER else 'Import'}"]
    return [meter.topic]
