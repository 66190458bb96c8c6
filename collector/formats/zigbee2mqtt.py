"""`zigbee2mqtt`: `zigbee2mqtt/<name>` and its `availability` (decoder:
`collector.decoders.zigbee2mqtt`)."""

from collections.abc import Mapping, Sequence
from functools import partial
from zoneinfo import ZoneInfo

from collector.decoders import zigbee2mqtt
from collector.decoders.common import Sample
from collector.message import Message
from levy.core.units import ms_to_datetime

from .encoding import Json, energy, json_message, power
from .frames import Frame
from .registry import BaseFormat
from .routing import MeterBinding, MeterTarget, RouterBuilder, availability, each, ids, targets


class Zigbee2mqtt(BaseFormat):
    name = "zigbee2mqtt"

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        limit, zone = router.limit, router.zone  # not looked up per message

        def parse(payload: bytes, _received_ms: int) -> dict[str, object]:
            return zigbee2mqtt.parse(payload, limit)

        def read(
            document: dict[str, object], target: MeterTarget, received_ms: int
        ) -> Sample | None:
            return zigbee2mqtt.sample(document, target.measure, zone, received_ms)

        will = partial(zigbee2mqtt.parse_availability, limit=limit)
        handler = partial(each, parse, read)
        for topic, group in devices.items():
            router.add_targets(topic, handler, targets(group))
            online = partial(availability, will, ids(group))
            router.add(f"{topic}/{zigbee2mqtt.AVAILABILITY}", online, ids(group))
            router.add_device(topic)

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """`last_seen` in the bridge's `ISO_8601` form: UTC with milliseconds and a `Z`."""
        (channel,) = frame.channels
        seen = ms_to_datetime(frame.ts_ms).isoformat(timespec="milliseconds")
        document: dict[str, Json] = {
            "energy": energy(frame, channel),
            "power": power(frame, channel),
            "last_seen": seen.replace("+00:00", "Z"),
        }
        return [json_message(frame, frame.topic, document)]
