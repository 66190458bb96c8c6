"""From (topic, payload) to what it means for each meter: readings, rejections, status changes.

Every topic the router listens on is resolved at construction into one handler in a dict, so a
message costs one lookup, one decode and one outcome per meter it concerns. The only state kept
is each Shelly component's last known status, which partial `NotifyStatus` frames are merged onto.

A meter whose `measure` is None leaves it to its first valid reading (DESIGN.md rule 5, decided
by the engine): its readings carry every value the payload has, and only a payload with neither
is refused (`native`, `tasmota`) or not a reading (`zigbee2mqtt`). Shelly components and mbmd,
whose devices always report a register, bill on it unless the meter pins `power`. Payload times
without an offset are read in `zone`, nearest the receive time around a clock change.

Nothing one message holds can stop the others (DESIGN.md rule 1): a payload longer than
`max_payload` is refused `oversized` before anything reads it, a topic longer than
`MAX_TOPIC_BYTES` is no meter's, and any exception a handler raises on a message (a decoder's
bug, say) becomes an `internal` rejection for each meter the topic concerns.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from typing import Protocol, TypeVar

from levy.core.model import Availability, Measure, Reading, Rejection, RejectReason

from .decoders import mbmd, native, shelly, tasmota, zigbee2mqtt
from .decoders.common import (
    DEFAULT_MAX_PAYLOAD,
    MAX_TOPIC_BYTES,
    DecodeError,
    Sample,
    check_size,
    topic_size,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device's own report of being online or offline: for dashboards, never for billing."""

    meter: str
    status: Availability


Outcome = Reading | Rejection | StatusChange
Handler = Callable[[bytes, int], list[Outcome]]
"""(payload, received_ms) -> outcomes."""
Parsed = TypeVar("Parsed")


class MeterBinding(Protocol):
    """What the router needs of a configured meter (the configuration's meter model fits)."""

    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def channel(self) -> int | None: ...
    @property
    def component(self) -> str | None: ...
    @property
    def measure(self) -> Measure | None:
        """None: decided by the meter's first valid reading."""
        ...


class _Meter(Protocol):
    @property
    def meter(self) -> str: ...


Target = TypeVar("Target", bound=_Meter)


@dataclass(frozen=True, slots=True)
class _Target:
    meter: str
    measure: Measure | None
    channel: int = 1


@dataclass(frozen=True, slots=True)
class _ShellyTarget:
    meter: str
    measure: Measure
    fields: shelly.Fields


class Router:
    """Routes one message to the meters bound to its topic.

    A meter's `topic` is the exact topic for `native`, `tasmota` and `zigbee2mqtt`, and the device
    prefix for `shelly` and `mbmd`. Topics below a known device that carry nothing the levy
    reads (a Shelly's `status/sys`, Tasmota's `tele/<device>/STATE`, mbmd's `Voltage/L1`) give no
    outcome; any other topic without a meter, and any topic longer than `MAX_TOPIC_BYTES`, is an
    `unknown_meter` rejection. Construction raises ValueError for a binding that could never
    yield a reading, or whose topic is longer than that.
    """

    def __init__(
        self,
        bindings: Iterable[MeterBinding],
        zone: tzinfo,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self._zone = zone
        self._limit = max_payload
        self._handlers: dict[str, Handler] = {}
        self._concerns: dict[str, list[str]] = {}
        """The meters each topic's messages concern, for the rejections of a failed message."""
        self._logged: set[type[Exception]] = set()
        self._devices: set[str] = set()
        grouped: dict[tuple[str, str], list[MeterBinding]] = defaultdict(list)
        for binding in bindings:
            if binding.format not in _BUILDERS:
                raise ValueError(f"meter {binding.id}: unknown format {binding.format!r}")
            grouped[(binding.format, binding.topic)].append(binding)
        for (fmt, topic), group in grouped.items():
            _BUILDERS[fmt](self, topic, group)
        self._add_mbmd_wills(
            [(topic, group) for (fmt, topic), group in grouped.items() if fmt == "mbmd"]
        )

    def route(self, topic: str, payload: bytes, received_ms: int) -> list[Outcome]:
        """What one message means; never raises but for MemoryError (and what is no Exception)."""
        handler = self._handlers.get(topic)
        if handler is None:
            return self._unbound(topic)
        try:
            if len(payload) > self._limit:  # checked here, before any handler reads it
                check_size(payload, self._limit)
            return handler(payload, received_ms)
        except DecodeError as error:
            return _rejections(self._concerns[topic], error)
        except MemoryError:
            raise
        except Exception as exc:
            return self._internal(topic, exc)

    def concerns_meters(self, topic: str) -> bool:
        """Whether messages on `topic` concern some meter (its readings or its availability);
        False for a known device's companion topics (a Tasmota's `STATE`, an mbmd `Power` no
        meter bills on), whose messages give no outcome by design."""
        return bool(self._concerns.get(topic))

    def topics(self) -> list[str]:
        """Every exact topic with a handler, sorted (for diagnostics and subscription checks)."""
        return sorted(self._handlers)

    def _add(self, topic: str, handler: Handler, meters: list[str]) -> None:
        if topic in self._handlers:
            raise ValueError(f"topic {topic!r} is claimed twice (two formats, or two devices)")
        if topic_size(topic) > MAX_TOPIC_BYTES:
            raise ValueError(
                f"topic {topic[:60]!r}... is longer than {MAX_TOPIC_BYTES} bytes (meters: "
                f"{', '.join(meters) or 'none'})"
            )
        self._handlers[topic] = handler
        self._concerns[topic] = meters

    def _unbound(self, topic: str) -> list[Outcome]:
        if topic_size(topic) <= MAX_TOPIC_BYTES and self._below_device(topic):
            return []
        return [Rejection(RejectReason.UNKNOWN_METER, f"no meter on topic {topic[:200]!r}")]

    def _internal(self, topic: str, exc: Exception) -> list[Outcome]:
        """The first failure of each kind is logged with its traceback, the rest counted."""
        if type(exc) not in self._logged:
            self._logged.add(type(exc))
            log.error("a message on %r broke its decoder", topic[:200], exc_info=exc)
        detail = f"{type(exc).__name__}: {_message(exc)}"
        meters = self._concerns[topic]
        if not meters:
            return [Rejection(RejectReason.INTERNAL, detail)]
        return [Rejection(RejectReason.INTERNAL, detail, meter) for meter in meters]

    def _below_device(self, topic: str) -> bool:
        while True:
            topic, slash, _ = topic.rpartition("/")
            if not slash:
                return False
            if topic in self._devices:
                return True

    def _native(self, topic: str, group: list[MeterBinding]) -> None:
        def parse(payload: bytes, _received_ms: int) -> dict[str, object]:
            return native.parse(payload, self._limit)

        def read(document: dict[str, object], target: _Target, received_ms: int) -> Sample:
            return native.sample(document, target.measure, self._zone, received_ms)

        self._add(topic, partial(_each, _targets(group), parse, read), _ids(group))

    def _tasmota(self, topic: str, group: list[MeterBinding]) -> None:
        def parse(payload: bytes, received_ms: int) -> tasmota.Telemetry:
            return tasmota.parse(payload, self._zone, self._limit, received_ms)

        def read(telemetry: tasmota.Telemetry, target: _Target, _received_ms: int) -> Sample:
            return telemetry.sample(target.channel, target.measure)

        targets = [_Target(b.id, _measure(b), _channel(b)) for b in group]
        self._add(topic, partial(_each, targets, parse, read), _ids(group))
        will = tasmota.will_topic(topic)
        if will is not None:
            self._add(will, partial(_availability, tasmota.parse_will, _ids(group)), _ids(group))
            self._devices.add(topic.rpartition("/")[0])

    def _zigbee2mqtt(self, topic: str, group: list[MeterBinding]) -> None:
        def parse(payload: bytes, _received_ms: int) -> dict[str, object]:
            return zigbee2mqtt.parse(payload, self._limit)

        def read(document: dict[str, object], target: _Target, received_ms: int) -> Sample | None:
            return zigbee2mqtt.sample(document, target.measure, self._zone, received_ms)

        self._add(topic, partial(_each, _targets(group), parse, read), _ids(group))
        will = partial(zigbee2mqtt.parse_availability, limit=self._limit)
        availability = partial(_availability, will, _ids(group))
        self._add(f"{topic}/{zigbee2mqtt.AVAILABILITY}", availability, _ids(group))
        self._devices.add(topic)

    def _shelly(self, prefix: str, group: list[MeterBinding]) -> None:
        device = _ShellyDevice(self._limit)
        for binding in group:
            device.bind(binding)
        for component in device.components():
            status = partial(device.on_status, component)
            self._add(f"{prefix}/{shelly.STATUS}/{component}", status, device.meters(component))
        self._add(f"{prefix}/{shelly.EVENTS}", device.on_events, _ids(group))
        online = partial(_availability, shelly.parse_will, _ids(group))
        self._add(f"{prefix}/{shelly.ONLINE}", online, _ids(group))
        self._devices.add(prefix)

    def _mbmd(self, prefix: str, group: list[MeterBinding]) -> None:
        """`Import` feeds the energy meters and `Power` the power meters; each tells the other
        kind nothing, so it gives them no outcome (and is no unknown topic either). The two
        arrive as separate messages, so the first must not decide: unpinned means `Import`."""
        for name, parse, measure in (
            (mbmd.IMPORT, mbmd.parse_import, Measure.ENERGY),
            (mbmd.POWER, mbmd.parse_power, Measure.POWER),
        ):
            meters = [b.id for b in group if (_measure(b) or Measure.ENERGY) is measure]
            value = partial(parse, limit=self._limit)
            self._add(f"{prefix}/{name}", partial(_mbmd_value, value, measure, meters), meters)
        self._devices.add(prefix)

    def _add_mbmd_wills(self, devices: list[tuple[str, list[MeterBinding]]]) -> None:
        """mbmd has one will for all its devices: `<root>/status`."""
        by_will: dict[str, list[str]] = defaultdict(list)
        for prefix, group in devices:
            will = mbmd.status_topic(prefix)
            if will is not None:
                by_will[will].extend(_ids(group))
        for will, meters in by_will.items():
            self._add(will, partial(_availability, mbmd.parse_will, meters), meters)


_BUILDERS: dict[str, Callable[[Router, str, list[MeterBinding]], None]] = {
    "native": Router._native,
    "tasmota": Router._tasmota,
    "zigbee2mqtt": Router._zigbee2mqtt,
    "shelly": Router._shelly,
    "mbmd": Router._mbmd,
}


class _ShellyDevice:
    """One Shelly: its meters by component, and each component's merged status."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._targets: dict[str, list[_ShellyTarget]] = defaultdict(list)
        self._fields: dict[str, shelly.Fields] = {}
        self._status: dict[str, dict[str, object]] = {}
        """Only what `shelly.sample` reads of each status (see `shelly.kept`): frames full of
        other fields cannot make a device's memory grow."""

    def bind(self, binding: MeterBinding) -> None:
        component = binding.component or shelly.DEFAULT_COMPONENT
        fields = shelly.component_fields(component)
        measure = _measure(binding) or shelly.default_measure(fields)
        if (fields.energy if measure is Measure.ENERGY else fields.power) is None:
            raise ValueError(f"meter {binding.id}: Shelly {component} reports no {measure}")
        self._targets[component].append(_ShellyTarget(binding.id, measure, fields))
        self._fields[component] = fields

    def components(self) -> list[str]:
        return list(self._targets)

    def meters(self, component: str) -> list[str]:
        return [target.meter for target in self._targets[component]]

    def on_status(self, component: str, payload: bytes, received_ms: int) -> list[Outcome]:
        """A component's whole status (no time of its own): it replaces what was known."""
        try:
            status = shelly.parse_status(payload, self._limit)
            self._status[component] = shelly.kept(status, self._fields[component])
        except DecodeError as error:
            return _rejections((t.meter for t in self._targets[component]), error)
        return self._readings(component, received_ms, received_ms)

    def on_events(self, payload: bytes, received_ms: int) -> list[Outcome]:
        """An RPC frame: each billed component it mentions is merged onto its known status
        and read at the frame's `ts`; other frames (events, replies) give nothing."""
        try:
            notification = shelly.parse_rpc(payload, self._limit)
        except DecodeError as error:
            return _rejections((t.meter for ts in self._targets.values() for t in ts), error)
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
                outcomes.extend(_rejections((t.meter for t in targets), wrong))
                continue
            status = self._status.get(component, {})
            shelly.merge(status, change)
            self._status[component] = shelly.kept(status, self._fields[component])
            outcomes.extend(self._readings(component, ts_ms, received_ms))
        return outcomes

    def _readings(self, component: str, ts_ms: int, received_ms: int) -> list[Outcome]:
        status = self._status[component]

        def read(target: _ShellyTarget) -> Sample | None:
            return shelly.sample(status, target.fields, target.measure, ts_ms)

        return _read_each(self._targets[component], read, received_ms)


def _each(
    targets: list[_Target],
    parse: Callable[[bytes, int], Parsed],
    read: Callable[[Parsed, _Target, int], Sample | None],
    payload: bytes,
    received_ms: int,
) -> list[Outcome]:
    """Parse once, then read per meter; a parse failure is one rejection per meter. Both see
    the receive time, which resolves a naive local time around a clock change."""
    try:
        parsed = parse(payload, received_ms)
    except DecodeError as error:
        return _rejections((t.meter for t in targets), error)

    def read_one(target: _Target) -> Sample | None:
        return read(parsed, target, received_ms)

    return _read_each(targets, read_one, received_ms)


def _read_each(
    targets: list[Target], read: Callable[[Target], Sample | None], received_ms: int
) -> list[Outcome]:
    """One outcome per meter: a failure only concerns its meter, and None means the message
    holds nothing for that meter."""
    outcomes: list[Outcome] = []
    for target in targets:
        try:
            sample = read(target)
        except DecodeError as error:
            outcomes.append(Rejection(error.reason, error.detail, target.meter))
            continue
        if sample is not None:
            ts_ms = received_ms if sample.ts_ms is None else sample.ts_ms
            outcomes.append(
                Reading(
                    target.meter,
                    ts_ms,
                    received_ms,
                    sample.energy_mj,
                    sample.power_mw,
                    sample.fault,
                )
            )
    return outcomes


def _mbmd_value(
    parse: Callable[[bytes], int],
    measure: Measure,
    meters: list[str],
    payload: bytes,
    received_ms: int,
) -> list[Outcome]:
    if not meters:
        return []
    try:
        value = parse(payload)
    except DecodeError as error:
        return _rejections(meters, error)
    if measure is Measure.ENERGY:
        return [Reading(meter, received_ms, received_ms, energy_mj=value) for meter in meters]
    return [Reading(meter, received_ms, received_ms, power_mw=value) for meter in meters]


def _availability(
    parse: Callable[[bytes], Availability], meters: list[str], payload: bytes, _received_ms: int
) -> list[Outcome]:
    try:
        status = parse(payload)
    except DecodeError as error:
        return _rejections(meters, error)
    return [StatusChange(meter, status) for meter in meters]


def _message(exc: Exception) -> str:
    """The exception's message, short and storable as text (no lone surrogates)."""
    try:
        text = str(exc)
    except Exception:
        return "(no message)"
    return text[:200].encode("utf-8", "backslashreplace").decode("utf-8")


def _rejections(meters: Iterable[str], error: DecodeError) -> list[Outcome]:
    return [Rejection(error.reason, error.detail, meter) for meter in meters]


def _targets(group: list[MeterBinding]) -> list[_Target]:
    return [_Target(b.id, _measure(b)) for b in group]


def _measure(binding: MeterBinding) -> Measure | None:
    """The pinned measure (configuration may give it as plain text), or None."""
    return None if binding.measure is None else Measure(binding.measure)


def _channel(binding: MeterBinding) -> int:
    channel = 1 if binding.channel is None else binding.channel
    if channel < 1:
        raise ValueError(f"meter {binding.id}: channel {channel} is not 1 or more")
    return channel


def _ids(group: list[MeterBinding]) -> list[str]:
    return [binding.id for binding in group]
