"""Tasmota energy telemetry: `tele/<device>/SENSOR` and the `tele/<device>/LWT` will.

`Time` is the device's local time, naive unless the device adds an offset; `ENERGY.Total` is the
cumulative import in kWh and `ENERGY.Power` the active power in W. A device with several metered
channels sends arrays (`"Total":[0.005,1.507]`), and each meter names its 1-based `channel`.
A naive `Time` is read in the site zone, nearest the receive time where the zone's clock changes
make it ambiguous or skip it (see `common`).
"""

from dataclasses import dataclass
from datetime import tzinfo

from levy.core.model import Availability, Measure, RejectReason

from .common import (
    DecodeError,
    Sample,
    energy_from_kwh,
    field_object,
    load_object,
    new_sample,
    power_from_w,
    require_billable,
    timestamp_ms,
    will,
)

SENSOR = "SENSOR"
LWT = "LWT"
_WILL = {b"Online": Availability.ONLINE, b"Offline": Availability.OFFLINE}


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One SENSOR message, parsed once and then read per channel."""

    ts_ms: int | None
    energy: dict[str, object]

    def sample(self, channel: int, measure: Measure | None) -> Sample:
        """The channel's values: those its meter is billed on, or every one it has when the
        meter's measure is left to its first reading."""
        energy = energy_from_kwh(self._channel("Total", channel), "ENERGY.Total")
        power = power_from_w(self._channel("Power", channel), "ENERGY.Power")
        found = new_sample((self.ts_ms, energy, power, False))
        return require_billable(found, measure, "ENERGY.Total", "ENERGY.Power")

    def _channel(self, key: str, channel: int) -> object:
        value = self.energy.get(key)
        if isinstance(value, list):
            if channel > len(value):
                raise DecodeError(
                    RejectReason.MISSING_FIELD,
                    f"ENERGY.{key} has {len(value)} channels, the meter reads channel {channel}",
                )
            return value[channel - 1]
        if value is not None and channel != 1:
            # Without per-channel values Tasmota reports one sum for the device; it cannot be
            # billed to one channel's meter.
            raise DecodeError(
                RejectReason.MISSING_FIELD,
                f"ENERGY.{key} is a single value, the meter reads channel {channel}",
            )
        return value


def parse(payload: bytes, zone: tzinfo, limit: int, received_ms: int) -> Telemetry:
    document = load_object(payload, limit)
    energy = field_object(document, "ENERGY", "ENERGY")
    if energy is None:
        raise DecodeError(RejectReason.MISSING_FIELD, "ENERGY is missing")
    time = document.get("Time")
    ts_ms = None if time is None else timestamp_ms(time, "Time", zone, received_ms)
    return Telemetry(ts_ms, energy)


def parse_will(payload: bytes) -> Availability:
    return will(payload, _WILL, "LWT")


def will_topic(sensor_topic: str) -> str | None:
    """The LWT topic beside a SENSOR topic, whatever the device's FullTopic layout."""
    stem, slash, last = sensor_topic.rpartition("/")
    return f"{stem}{slash}{LWT}" if slash and last == SENSOR else None
