"""What the formats' simulator encodings share: exact JSON, and the values a garbled frame spoils.

Values are written exactly, at full precision, in every format: a real Tasmota rounds its
register to 3 decimals, but a simulator that rounded would make the levy's metered totals differ
from the ground truth by a rounding step per reading span and hide real discrepancies.

A frame asking for a `Garble` spoils the value its meters are billed on (or cuts the payload
short), so the decoders refuse it for that meter; the rest of the payload stays well formed.
"""

import json
from decimal import Decimal

from collector.message import Message
from levy.core.model import Measure

from .frames import Channel, Frame, Garble

Json = dict[str, "Json"] | list["Json"] | str | bool | int | Decimal


def energy(frame: Frame, channel: Channel) -> Json:
    return shown(channel.energy_kwh, frame.garble, bills(channel, Measure.ENERGY))


def power(frame: Frame, channel: Channel) -> Json:
    return shown(channel.power_w, frame.garble, bills(channel, Measure.POWER))


def bills(channel: Channel, measure: Measure) -> bool:
    return channel.meter.measure is measure


def shown(value: Decimal, garble: Garble | None, billed: bool) -> Json:
    """A value as written: spoilt when the frame is garbled and its meter is billed on it."""
    if garble is None or garble is Garble.TRUNCATED or not billed:
        return value
    if garble is Garble.NAN:
        return Decimal("NaN")
    if garble is Garble.NEGATIVE:
        return -(value + 1)
    return format(value, "f")


def json_message(frame: Frame, topic: str, document: dict[str, Json]) -> Message:
    """The document as the device sends it at the frame's time, cut short if the frame asks."""
    payload = dump(document).encode()
    if frame.garble is Garble.TRUNCATED:
        payload = payload[: len(payload) // 2]
    return Message(frame.ts_ms, topic, payload)


def put(document: dict[str, Json], path: tuple[str, ...], value: Json) -> None:
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
