"""`native`: our own payload on the meter's exact topic (decoder: `collector.decoders.native`)."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from collector.decoders import native
from collector.decoders.common import Sample
from collector.message import Message
from levy.core.units import MS_PER_S

from .encoding import Json, energy, json_message, power
from .frames import Frame
from .registry import BaseFormat
from .routing import MeterBinding, MeterTarget, RouterBuilder, each, targets


class Native(BaseFormat):
    name = "native"
    reports_faults = True

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        limit, zone = router.limit, router.zone  # not looked up per message

        def parse(payload: bytes, _received_ms: int) -> dict[str, object]:
            return native.parse(payload, limit)

        def read(document: dict[str, object], target: MeterTarget, received_ms: int) -> Sample:
            return native.sample(document, target.measure, zone, received_ms)

        handler = partial(each, parse, read)
        for topic, group in devices.items():
            router.add_targets(topic, handler, targets(group))

    def synthetic(self, prefix: str, meter_id: str) -> dict[str, object]:
        return {"topic": f"{prefix}/{meter_id}"}

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """A fault frame carries no values, as a meter that knows it failed."""
        (channel,) = frame.channels
        document: dict[str, Json] = {"ts": Decimal(frame.ts_ms) / MS_PER_S}
        if frame.fault:
            document["fault"] = True
        else:
            document["energy_kwh"] = energy(frame, channel)
            document["power_w"] = power(frame, channel)
        return [json_message(frame, frame.topic, document)]
