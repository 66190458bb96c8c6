"""One payload encoder per device format: the mirror image of `collector.decoders`.

Shapes follow DESIGN.md section 4 and the decoders' own sources, and the topic names come from
the decoders' constants, so an encoder and its decoder cannot drift apart unnoticed (the round
trip tests route every encoder's output through the router).

Values are written exactly, at full precision, in every format: a real Tasmota rounds its
register to 3 decimals, but a simulator that rounded would make the levy's metered totals differ
from the ground truth by a rounding step per reading span and hide real discrepancies.

A frame asking for a `Garble` spoils the value its meters are billed on (or cuts the payload
short), so the decoders refuse it for that meter; the rest of the payload stays well formed.
"""

import json
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from collector.decoders import mbmd, shelly
from collector.decoders.common import WH_PER_KWH
from levy.core.model import Measure
from levy.core.units import MS_PER_S, ms_to_datetime

from .model import Channel, Frame, Garble, Message

Json = dict[str, "Json"] | list["Json"] | str | bool | int | Decimal
Encoder = Callable[[Frame, ZoneInfo], list[Message]]

SHELLY_FAULT = "overtemp"
"""The error a faulty Shelly reports (one of the documented Switch errors)."""
FAULT_FLAGGED = frozenset({"native", "shelly"})
"""Formats whose payload can say the meter itself has failed; the others have no such flag."""


def encode(frame: Frame, zone: ZoneInfo) -> list[Message]:
    """The messages a device publishes for one frame; `zone` is the site's, for naive times."""
    return _ENCODERS[frame.format](frame, zone)


def _native(frame: Frame, _zone: ZoneInfo) -> list[Message]:
    """Our own format: a fault frame carries no values, as a meter that knows it failed."""
    (channel,) = frame.channels
    document: dict[str, Json] = {"ts": Decimal(frame.ts_ms) / MS_PER_S}
    if frame.fault:
        document["fault"] = True
    else:
        document["energy_kwh"] = _energy(frame, channel)
        document["power_w"] = _power(frame, channel)
    return [_json_message(frame.topic, document, frame.garble)]


def _tasmota(frame: Frame, zone: ZoneInfo) -> list[Message]:
    """`Time` is local and naive, to the second, as Tasmota prints it by default."""
    local = ms_to_datetime(frame.ts_ms).astimezone(zone).replace(tzinfo=None)
    document: dict[str, Json] = {
        "Time": local.isoformat(timespec="seconds"),
        "ENERGY": {
            "Total": _tasmota_values(frame, _energy),
            "Power": _tasmota_values(frame, _power),
        },
    }
    return [_json_message(frame.topic, document, frame.garble)]


def _tasmota_values(frame: Frame, shown: Callable[[Frame, Channel], Json]) -> Json:
    """A single meter on channel 1 gets a plain number; several channels get arrays, where a
    channel no meter reads shows 0, as an idle relay does."""
    by_channel = {channel.spec.channel or 1: shown(frame, channel) for channel in frame.channels}
    if list(by_channel) == [1]:
        return by_channel[1]
    return [by_channel.get(number, Decimal(0)) for number in range(1, max(by_channel) + 1)]


def _shelly(frame: Frame, _zone: ZoneInfo) -> list[Message]:
    """Each component's whole status on `<prefix>/status/<component>` (energy in Wh)."""
    messages = []
    for channel in frame.channels:
        component = channel.spec.component or shelly.DEFAULT_COMPONENT
        fields = shelly.component_fields(component)
        status: dict[str, Json] = {"id": int(component.partition(":")[2])}
        if fields.power is not None:
            status[fields.power] = _power(frame, channel)
        if fields.energy is not None:
            wh = channel.energy_kwh * WH_PER_KWH
            _put(status, fields.energy, _shown(wh, frame.garble, _bills(channel, Measure.ENERGY)))
        if frame.fault:
            status["errors"] = [SHELLY_FAULT]
        topic = f"{frame.topic}/{shelly.STATUS}/{component}"
        messages.append(_json_message(topic, status, frame.garble))
    return messages


def _zigbee2mqtt(frame: Frame, _zone: ZoneInfo) -> list[Message]:
    """`last_seen` in the bridge's `ISO_8601` form: UTC with milliseconds and a `Z`."""
    (channel,) = frame.channels
    seen = ms_to_datetime(frame.ts_ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    document: dict[str, Json] = {
        "energy": _energy(frame, channel),
        "power": _power(frame, channel),
        "last_seen": seen,
    }
    return [_json_message(frame.topic, document, frame.garble)]


def _mbmd(frame: Frame, _zone: ZoneInfo) -> list[Message]:
    """mbmd publishes every measurement of a device as plain text; the router picks `Import` or
    `Power` by the meter's measure, so both are sent, and a garble spoils the billed one."""
    messages = []
    for channel in frame.channels:
        for name, value, measure in (
            (mbmd.IMPORT, channel.energy_kwh, Measure.ENERGY),
            (mbmd.POWER, channel.power_w, Measure.POWER),
        ):
            billed = _bills(channel, measure)
            payload = dump(_shown(value, frame.garble, billed)).encode()
            if billed and frame.garble is Garble.TRUNCATED:
                payload = b""
            messages.append(Message(f"{frame.topic}/{name}", payload))
    return messages


def _energy(frame: Frame, channel: Channel) -> Json:
    return _shown(channel.energy_kwh, frame.garble, _bills(channel, Measure.ENERGY))


def _power(frame: Frame, channel: Channel) -> Json:
    return _shown(channel.power_w, frame.garble, _bills(channel, Measure.POWER))


def _bills(channel: Channel, measure: Measure) -> bool:
    return channel.spec.measure is measure


def _shown(value: Decimal, garble: Garble | None, billed: bool) -> Json:
    """A value as written: spoilt when the frame is garbled and its meter is billed on it."""
    if garble is None or garble is Garble.TRUNCATED or not billed:
        return value
    if garble is Garble.NAN:
        return Decimal("NaN")
    if garble is Garble.NEGATIVE:
        return -(value + 1)
    return format(value, "f")


def _json_message(topic: str, document: dict[str, Json], garble: Garble | None) -> Message:
    payload = dump(document).encode()
    if garble is Garble.TRUNCATED:
        payload = payload[: len(payload) // 2]
    return Message(topic, payload)


def _put(document: dict[str, Json], path: tuple[str, ...], value: Json) -> None:
    """Set a nested field such as Shelly's `aenergy.total`, creating the objects on the way."""
    *parents, last = path
    for key in parents:
        child: dict[str, Json] = {}
        document[key] = child
        document = child
    document[last] = value


def dump(value: Json) -> str:
    """Compact JSON with every Decimal written exactly (and NaN as the bare `NaN` that JSON
    encoders in the wild, Python's among them, emit), never through binary floating point."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return "NaN" if value.is_nan() else format(value, "f")
    if isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ",".join(map(dump, value)) + "]"
    return "{" + ",".join(f"{json.dumps(key)}:{dump(item)}" for key, item in value.items()) + "}"


_ENCODERS: dict[str, Encoder] = {
    "native": _native,
    "tasmota": _tasmota,
    "shelly": _shelly,
    "zigbee2mqtt": _zigbee2mqtt,
    "mbmd": _mbmd,
}
FORMATS = tuple(_ENCODERS)
"""Every format the simulator speaks, in the order `--format mixed` cycles through them."""
