"""Device formats, one module each, registered by name: see `registry`.

Importing this package registers the five formats of DESIGN.md section 4, in this order.
"""

from .frames import Channel, Frame, Garble
from .mbmd import Mbmd
from .native import Native
from .registry import BaseFormat, DeviceFormat, encode, find, get, names, register, unregister
from .routing import MeterBinding, Outcome, RouterBuilder, StatusChange
from .shelly import Shelly
from .tasmota import Tasmota
from .zigbee2mqtt import Zigbee2mqtt

for _format in (Native(), Tasmota(), Shelly(), Zigbee2mqtt(), Mbmd()):
    register(_format)

BUILT_IN = names()
"""The formats that ship, in the order `simulate --format mixed` cycles through them."""

__all__ = [
    "BUILT_IN",
    "BaseFormat",
    "Channel",
    "DeviceFormat",
    "Frame",
    "Garble",
    "MeterBinding",
    "Outcome",
    "RouterBuilder",
    "StatusChange",
    "encode",
    "find",
    "get",
    "names",
    "register",
    "unregister",
]
