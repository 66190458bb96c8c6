"""`tasmota`: `tele/<device>/SENSOR` and its `LWT` (decoder: `collector.decoders.tasmota`).
A multi-channel device's meters each name their 1-based `channel`."""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from collector.decoders import tasmota
from collector.decoders.common import Sample
from collector.message import Message
from levy.core.units import ms_to_datetime

from .encoding import Json, energy, json_message, power
from .frames import Channel, Frame
from .registry import BaseFormat
from .routing import (
    MeterBinding,
    MeterTarget,
    RouterBuilder,
    availability,
    each,
    ids,
    measure_of,
)


class Tasmota(BaseFormat):
    name = "tasmota"
    fields = frozenset({"channel"})

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        zone, limit = router.zone, router.limit  # not looked up per message

        def parse(payload: bytes, received_ms: int) -> tasmota.Telemetry:
            return tasmota.parse(payload, zone, limit, received_ms)

        def read(telemetry: tasmota.Telemetry, target: MeterTarget, _received_ms: int) -> Sample:
            return telemetry.sample(target.channel, target.measure)

        handler = partial(each, parse, read)
        for topic, group in devices.items():
            targets = tuple(MeterTarget(b.id, measure_of(b), _channel(b)) for b in group)
            router.add_targets(topic, handler, targets)
            will = tasmota.will_topic(topic)
            if will is not None:
                router.add(will, partial(availability, tasmota.parse_will, ids(group)), ids(group))
                router.add_device(topic.rpartition("/")[0])

    def synthetic(self, prefix: str, meter_id: str) -> dict[str, object]:
        return {"topic": f"{prefix}/tele/{meter_id}/SENSOR"}

    def slot(self, meter: MeterBinding) -> object:
        return _channel(meter)

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """`Time` is local and naive, to the second, as Tasmota prints it by default."""
        local = ms_to_datetime(frame.ts_ms).astimezone(zone).replace(tzinfo=None)
        document: dict[str, Json] = {
            "Time": local.isoformat(timespec="seconds"),
            "ENERGY": {
                "Total": _values(frame, energy),
                "Power": _values(frame, power),
            },
        }
        return [json_message(frame, frame.topic, document)]


def _values(frame: Frame, shown: Callable[[Frame, Channel], Json]) -> Json:
    """A single meter on channel 1 gets a plain number; several channels get arrays, where a
    channel no meter reads shows 0, as an idle relay does."""
    by_channel = {_channel(channel.meter): shown(frame, channel) for channel in frame.channels}
    if list(by_channel) == [1]:
        return by_channel[1]
    return [by_channel.get(number, Decimal(0)) for number in range(1, max(by_channel) + 1)]


def _channel(binding: MeterBinding) -> int:
    channel = 1 if binding.channel is None else binding.channel
    if channel < 1:
        raise ValueError(f"meter {binding.id}: channel {channel} is not 1 or more")
    return channel
