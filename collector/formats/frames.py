"""What a device says at one instant, before its format writes it: the input of a format's
`encode`, which the simulator produces and a test can build by hand."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .routing import MeterBinding


class Garble(StrEnum):
    """The ways a malformed payload goes wrong, each refused by the decoders for its own reason."""

    TRUNCATED = "truncated"
    NAN = "nan"
    NEGATIVE = "negative"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class Channel:
    """What one meter of a device shows at one instant: its register (kWh) and its power (W)."""

    meter: MeterBinding
    energy_kwh: Decimal
    power_w: Decimal


@dataclass(frozen=True, slots=True)
class Frame:
    """What one device says at one instant.

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
