"""The device formats the collector speaks, by name: what one format knows, behind one protocol.

A format is one module: its decoder, the handlers it adds to the router for a meter's topic
(readings, the faults its devices report, and availability), the exact topics a meter's messages
arrive on, its configuration defaults and checks, and the simulator's encoding and synthetic
meters. The router, the configuration and the simulator ask `get` or `find`; adding a format is
one module that calls `register`.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from collector.message import Message

from .frames import Frame
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
    """Whether its payloads can say the meter itself has failed. Its handlers then give a
    `Reading` with `fault` set (rule 4), the one path every device-reported fault takes: a
    meter's fault status is derived from the faults its ledger state holds."""

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

    def synthetic(self, prefix: str, meter_id: str) -> dict[str, object]:
        """The configuration keys of a synthetic meter below `prefix` (its topic, and any field
        the format reads), for a simulated fleet that one subscription to `prefix/#` hears."""
        ...

    def slot(self, meter: MeterBinding) -> object:
        """What tells apart the meters one device speaks for (a channel, a component); None
        where a device carries one meter."""
        ...


class BaseFormat:
    """Defaults for the parts a format may leave out: no fields, no defaults, no faults, the
    topic is the exact topic, only a prefix's trailing '/' is a problem, a synthetic meter sits
    at `<prefix>/<format>/<id>` and a device carries one meter."""

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

    def synthetic(self, prefix: str, meter_id: str) -> dict[str, object]:
        return {"topic": f"{prefix}/{self.name}/{meter_id}"}

    def slot(self, meter: MeterBinding) -> object:
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


def encode(frame: Frame, zone: ZoneInfo) -> list[Message]:
    """The messages the frame's device publishes, in its format (naive times in `zone`)."""
    return get(frame.format).encode(frame, zone)


def names() -> tuple[str, ...]:
    """Every registered name, in the order registered."""
    return tuple(_FORMATS)
