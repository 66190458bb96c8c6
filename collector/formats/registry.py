"""The device formats the collector speaks, by name: what one format knows, behind one protocol.

A format is one module: its decoder, the handlers it adds to the router for a meter's topic
(readings and availability), the exact topics a meter's messages arrive on, its configuration
defaults and checks, and the simulator's encoding. The router, the configuration and the
simulator ask `get` or `find`; adding a format is one module that calls `register`.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from collector.simulate.model import Frame, Message

from .routing import MeterBinding, RouterBuilder


class DeviceFormat(Protocol):
    name: str
    """What a meter's `format` says."""
    prefix: bool
    """True: a meter's `topic` is a device prefix; False: the exact topic its readings arrive on."""
    fields: frozenset[str]
    """The optional meter keys it reads (`channel`, `component`); a meter of another format that
    sets one is refused."""
    reports_faults: bool
    """Whether its payloads can say the meter itself has failed (the simulator's fault frames)."""

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        """Add the handlers (readings and availability) for its meters, grouped by `topic`;
        ValueError for a meter that could never yield a reading."""
        ...

    def topics(self, meter: MeterBinding) -> list[str]:
        """The exact topics a meter's readings arrive on (what its subscription must match)."""
        ...

    def defaults(self, entry: Mapping[str, object]) -> dict[str, object]:
        """Values for keys a meter's configuration entry may leave out (set keys stay)."""
        ...

    def check(self, key: str, value: object, known: Mapping[str, object]) -> str | None:
        """The problem with a meter's `key` (`topic`, `measure` or one of `fields`) given the
        keys validated before it (`known`), or None."""
        ...

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        """The messages a device publishes for one simulated frame (naive times in `zone`)."""
        ...


class BaseFormat:
    """Defaults for the parts a format may leave out: no fields, no defaults, no faults, the
    topic is the exact topic, and only a prefix's trailing '/' is a problem."""

    name = ""
    prefix = False
    fields: frozenset[str] = frozenset()
    reports_faults = False

    def topics(self, meter: MeterBinding) -> list[str]:
        return [meter.topic]

    def defaults(self, entry: Mapping[str, object]) -> dict[str, object]:
        return {}

    def check(self, key: str, value: object, known: Mapping[str, object]) -> str | None:
        if key == "topic" and self.prefix and str(value).endswith("/"):
            return f"a {self.name} topic is a device prefix: no trailing '/'"
        return None


_FORMATS: dict[str, DeviceFormat] = {}


def register(fmt: DeviceFormat) -> DeviceFormat:
    """Make `fmt` known by its name; ValueError if the name is taken."""
    if fmt.name in _FORMATS:
        raise ValueError(f"device format {fmt.name!r} is registered already")
    _FORMATS[fmt.name] = fmt
    return fmt


def unregister(name: str) -> None:
    _FORMATS.pop(name, None)


def find(name: object) -> DeviceFormat | None:
    return _FORMATS.get(name) if isinstance(name, str) else None


def get(name: str) -> DeviceFormat:
    """The format named `name`; ValueError naming the known ones if there is none."""
    fmt = find(name)
    if fmt is None:
        raise ValueError(f"unknown format {name!r}: known are {', '.join(names())}")
    return fmt


def names() -> tuple[str, ...]:
    """Every registered name, in the order registered."""
    return tuple(_FORMATS)
