"""`shelly` (Gen2/Gen3 RPC over MQTT): the meter's `topic` is the device prefix and it names its
`component` (default `switch:0`); decoder: `collector.decoders.shelly`.

The router keeps each component's last known status, which partial `NotifyStatus` frames are
merged onto. A non-empty `errors` is a fault.
"""

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from collector.decoders import shelly
from collector.decoders.common import WH_PER_KWH, DecodeError, Sample
from collector.message import Message
from levy.core.model import Measure, RejectReason

from .encoding import Json, bills, json_message, power, put, shown
from .frames import Frame
from .registry import BaseFormat
from .routing import (
    MeterBinding,
    Outcome,
    RouterBuilder,
    availability,
    ids,
    measure_of,
    read_each,
    rejections,
)

FAULT = "overtemp"
"""The error a faulty simulated Shelly reports (one of the documented Switch errors)."""
_COMPONENT = re.compile(r"(switch|em|emdata):\d+")


class Shelly(BaseFormat):
    name = "shelly"
    prefix = True
    fields = frozenset({"component"})
    reports_faults = True

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        for prefix, group in devices.items():
            device = _Device(router.limit)
            for binding in group:
                device.bind(binding)
            for component in device.components():
                status = partial(device.on_status, component)
                topic = f"{prefix}/{shelly.STATUS}/{component}"
                router.add(topic, status, device.meters(component))
                router.observes(topic, partial(device.observe_status, component))
            events = f"{prefix}/{shelly.EVENTS}"
            router.add(events, device.on_events, ids(group))
            router.reads_kept(events)
            online = partial(availability, shelly.parse_will, ids(group))
            router.add(f"{prefix}/{shelly.ONLINE}", online, ids(group))
            router.add_device(prefix)

    def topics(self, meter: MeterBinding) -> list[str]:
        component = meter.component or shelly.DEFAULT_COMPONENT
        return [f"{meter.topic}/{shelly.STATUS}/{component}", f"{meter.topic}/{shelly.EVENTS}"]

    def defaults(self, entry: Mapping[str, object]) -> dict[str, object]:
        """A component's register decides, not its first message: energy, or power for an
        `em:N`, which reports power only."""
        component = entry.get("component", shelly.DEFAULT_COMPONENT)
        power_only = str(component).startswith("em:")
        return {"component": component, "measure": Measure.POWER if power_only else Measure.ENERGY}

    def check(self, key: str, value: object, known: Mapping[str, object]) -> str | None:
        if key == "component" and value is not None and not _COMPONENT.fullmatch(str(value)):
            return f"{value!r} should be switch:N, em:N or emdata:N"
        if key == "measure":
            kind = str(known.get("component") or "").partition(":")[0]
            if kind == "em" and value is not Measure.POWER:
                return 'a Shelly em:N reports power only: use "power", or component emdata:N'
            if kind == "emdata" and value is not Measure.ENERGY:
                return "a Shelly emdata:N reports energy only"
        return super().check(key, value, known)

    def slot(self, meter: MeterBinding) -> object:
        return meter.component or shelly.DEFAULT_COMPONENT

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """Each component's whole status on `<prefix>/status/<component>` (energy in Wh)."""
        messages = []
        for channel in frame.channels:
            component = channel.meter.component or shelly.DEFAULT_COMPONENT
            fields = shelly.component_fields(component)
            status: dict[str, Json] = {"id": int(component.partition(":")[2])}
            if fields.power is not None:
                status[fields.power] = power(frame, channel)
            if fields.energy is not None:
                wh = channel.energy_kwh * WH_PER_KWH
                put(status, fields.energy, shown(wh, frame.garble, bills(channel, Measure.ENERGY)))
            if frame.fault:
                status["errors"] = [FAULT]
            topic = f"{frame.topic}/{shelly.STATUS}/{component}"
            messages.append(json_message(frame, topic, status))
        return messages


@dataclass(frozen=True, slots=True)
class _Target:
    meter: str
    measure: Measure
    fields: shelly.Fields


class _Device:
    """One Shelly: its meters by component, and each component's merged status."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._targets: dict[str, list[_Target]] = defaultdict(list)
        self._fields: dict[str, shelly.Fields] = {}
        self._status: dict[str, dict[str, object]] = {}
        """Only what `shelly.sample` reads of each status (see `shelly.kept`): frames full of
        other fields cannot make a device's memory grow."""

    def bind(self, binding: MeterBinding) -> None:
        component = binding.component or shelly.DEFAULT_COMPONENT
        fields = shelly.component_fields(component)
        measure = measure_of(binding) or shelly.default_measure(fields)
        if (fields.energy if measure is Measure.ENERGY else fields.power) is None:
            raise ValueError(f"meter {binding.id}: Shelly {component} reports no {measure}")
        self._targets[component].append(_Target(binding.id, measure, fields))
        self._fields[component] = fields

    def components(self) -> list[str]:
        return list(self._targets)

    def meters(self, component: str) -> list[str]:
        return [target.meter for target in self._targets[component]]

    def on_status(self, component: str, payload: bytes, received_ms: int) -> list[Outcome]:
        """A component's whole status (no time of its own): it replaces what was known."""
        try:
            self.observe_status(component, payload)
        except DecodeError as error:
            return rejections((t.meter for t in self._targets[component]), error)
        return read_each(
            self._targets[component], _read_status, self._status[component], received_ms
        )

    def observe_status(self, component: str, payload: bytes) -> None:
        """What a status changes of what is kept: all of it, once it has parsed."""
        status = shelly.parse_status(payload, self._limit)
        self._status[component] = shelly.kept(status, self._fields[component])

    def on_events(self, payload: bytes, received_ms: int) -> list[Outcome]:
        """An RPC frame: each billed component it mentions is merged onto its known status
        and read at the frame's `ts`; other frames (events, replies) give nothing."""
        try:
            notification = shelly.parse_rpc(payload, self._limit)
        except DecodeError as error:
            return rejections((t.meter for ts in self._targets.values() for t in ts), error)
        if notification is None:
            return []
        ts_ms = received_ms if notification.ts_ms is None else notification.ts_ms
        outcomes: list[Outcome] = []
        for component, targets in self._targets.items():
            change = notification.params.get(component)
            if change is None:
                continue
            if not isinstance(change, dict):
                wrong = DecodeError(RejectReason.WRONG_TYPE, f"params.{component} is not an object")
                outcomes.extend(rejections((t.meter for t in targets), wrong))
                continue
            status = self._status.get(component, {})
            shelly.merge(status, change)
            self._status[component] = shelly.kept(status, self._fields[component])
            outcomes.extend(self._readings(component, ts_ms, received_ms))
        return outcomes

    def _readings(self, component: str, ts_ms: int, received_ms: int) -> list[Outcome]:
        def read(status: dict[str, object], target: _Target, _received_ms: int) -> Sample | None:
            return shelly.sample(status, target.fields, target.measure, ts_ms)

        return read_each(self._targets[component], read, self._status[component], received_ms)


def _read_status(status: dict[str, object], target: _Target, _received_ms: int) -> Sample | None:
    """A status message's reading: it has no time of its own (the receive time applies), and
    no function is made for it per message as `_Device._readings` makes one for a frame's `ts`."""
    return shelly.sample(status, target.fields, target.measure, None)
