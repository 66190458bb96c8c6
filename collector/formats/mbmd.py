"""`mbmd` (Modbus meters such as the Eastron SDM630): plain numbers on `<prefix>/Import` (kWh)
and `<prefix>/Power` (W), one `<root>/status` will for all devices (decoder:
`collector.decoders.mbmd`)."""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from zoneinfo import ZoneInfo

from collector.decoders import mbmd
from collector.decoders.common import DecodeError
from collector.message import Message
from levy.core.model import Measure, Reading

from .encoding import bills, dump, shown
from .frames import Frame, Garble
from .registry import BaseFormat
from .routing import MeterBinding, Outcome, RouterBuilder, availability, ids, measure_of, rejections


class Mbmd(BaseFormat):
    name = "mbmd"
    prefix = True

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        """`Import` feeds the energy meters and `Power` the power meters; each tells the other
        kind nothing, so it gives them no outcome (and is no unknown topic either). The two
        arrive as separate messages, so the first must not decide: unpinned means `Import`."""
        by_will: dict[str, list[str]] = defaultdict(list)
        for prefix, group in devices.items():
            for name, parse, measure in (
                (mbmd.IMPORT, mbmd.parse_import, Measure.ENERGY),
                (mbmd.POWER, mbmd.parse_power, Measure.POWER),
            ):
                meters = [b.id for b in group if _billed(b) is measure]
                value = partial(parse, limit=router.limit)
                router.add(f"{prefix}/{name}", partial(_value, value, measure, meters), meters)
            router.add_device(prefix)
            will = mbmd.status_topic(prefix)
            if will is not None:
                by_will[will].extend(ids(group))
        for will, meters in by_will.items():  # one will for all the devices below its root
            router.add(will, partial(availability, mbmd.parse_will, meters), meters)

    def topics(self, meter: MeterBinding) -> list[str]:
        return [f"{meter.topic}/{mbmd.POWER if _billed(meter) is Measure.POWER else mbmd.IMPORT}"]

    def defaults(self, entry: Mapping[str, object]) -> dict[str, object]:
        """Import and Power arrive on separate topics: the register, not the first, decides."""
        return {"measure": Measure.ENERGY}

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """mbmd publishes every measurement of a device as plain text; the router picks `Import`
        or `Power` by the meter's measure, so both are sent, and a garble spoils the billed one."""
        messages = []
        for channel in frame.channels:
            for name, value, measure in (
                (mbmd.IMPORT, channel.energy_kwh, Measure.ENERGY),
                (mbmd.POWER, channel.power_w, Measure.POWER),
            ):
                billed = bills(channel, measure)
                payload = dump(shown(value, frame.garble, billed)).encode()
                if billed and frame.garble is Garble.TRUNCATED:
                    payload = b""
                messages.append(Message(frame.ts_ms, f"{frame.topic}/{name}", payload))
        return messages


def _billed(meter: MeterBinding) -> Measure:
    """Unpinned, an mbmd meter bills on its register (Import)."""
    return measure_of(meter) or Measure.ENERGY


def _value(
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
        return rejections(meters, error)
    if measure is Measure.ENERGY:
        return [Reading(meter, received_ms, received_ms, energy_mj=value) for meter in meters]
    return [Reading(meter, received_ms, received_ms, power_mw=value) for meter in meters]
