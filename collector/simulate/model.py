"""What the simulator's parts hand each other: meter specs, frames and messages."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from levy.core.model import Measure


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """One simulated meter, described as the site configuration describes it.

    It satisfies the router's `MeterBinding`, so a test can route the simulator's messages
    through the very bindings they were made for.
    """

    id: str
    format: str
    topic: str
    rated_kw: Decimal
    measure: Measure = Measure.ENERGY
    channel: int | None = None
    component: str | None = None


class Garble(StrEnum):
    """The ways a malformed payload goes wrong, each refused by the decoders for its own reason."""

    TRUNCATED = "truncated"
    NAN = "nan"
    NEGATIVE = "negative"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class Channel:
    """What one meter of a device shows at one instant: its register (kWh) and its power (W)."""

    spec: MeterSpec
    energy_kwh: Decimal
    power_w: Decimal


@dataclass(frozen=True, slots=True)
class Frame:
    """What one device says at one instant, before it is written in the device's format.

    A device is what publishes on one topic (or one topic prefix): usually one meter, but a
    multi-channel Tasmota, a Shelly with several components or an mbmd device with both an
    energy and a power meter speak for all their meters at once.
    """

    format: str
    topic: str
    ts_ms: int
    channels: tuple[Channel, ...]
    fault: bool = False
    garble: Garble | None = None


class Message(NamedTuple):
    topic: str
    payload: bytes
