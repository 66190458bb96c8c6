"""Shelly Gen2/Gen3 devices over MQTT (the RPC API's component statuses).

A device publishes a component's whole status on `<prefix>/status/<component>` (no time of its
own), RPC notifications on `<prefix>/events/rpc` and its will on `<prefix>/online`.
`NotifyStatus` frames carry `params.ts` (UTC epoch seconds) and, per component, only the fields
that changed, with null for a field that went away; Shelly's documented use is to overlay them on
the last known status, which is what `merge` does. Energy counters are in Wh.

A component kind always reports the same values, so its meter's measure is never left to the
first reading: a component with an energy register bills on it unless the meter pins power
(`default_measure`).
"""

from dataclasses import dataclass, field

from levy.core.model import Availability, Measure, RejectReason

from .common import (
    DecodeError,
    Sample,
    energy_from_wh,
    field_object,
    has_billable,
    kind_of,
    load_object,
    new_sample,
    power_from_w,
    unix_ms,
    will,
)

STATUS = "status"
EVENTS = "events/rpc"
ONLINE = "online"
DEFAULT_COMPONENT = "switch:0"
_NOTIFICATIONS = frozenset({"NotifyStatus", "NotifyFullStatus"})
_WILL = {b"true": Availability.ONLINE, b"false": Availability.OFFLINE}


@dataclass(frozen=True, slots=True)
class Fields:
    """Where a component kind keeps its energy register (Wh) and its active power (W)."""

    energy: tuple[str, ...] | None
    power: str | None
    energy_name: str = field(init=False, repr=False, compare=False)
    """The register's path as messages name it (`aenergy.total`): every status asks."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "energy_name", ".".join(self.energy or ()))


# switch: Plus/Pro relays with metering; em/emdata: Pro 3EM (three phases summed);
# em1/em1data: Pro EM and EM Gen3 (one channel each).
KINDS = {
    "switch": Fields(("aenergy", "total"), "apower"),
    "em": Fields(None, "total_act_power"),
    "emdata": Fields(("total_act",), None),
    "em1": Fields(None, "act_power"),
    "em1data": Fields(("total_act_energy",), None),
}


@dataclass(frozen=True, slots=True)
class Notification:
    ts_ms: int | None
    params: dict[str, object]


def component_fields(component: str) -> Fields:
    """The fields of a configured component such as `switch:0`; ValueError if unsupported."""
    kind, colon, index = component.partition(":")
    if not colon or not index.isdigit() or kind not in KINDS:
        supported = ", ".join(f"{name}:N" for name in KINDS)
        raise ValueError(f"Shelly component {component!r} is not one of {supported}")
    return KINDS[kind]


def default_measure(fields: Fields) -> Measure:
    """What a component is billed on when its meter does not say: its register if it has one."""
    return Measure.ENERGY if fields.energy is not None else Measure.POWER


def parse_status(payload: bytes, limit: int) -> dict[str, object]:
    return load_object(payload, limit)


def parse_rpc(payload: bytes, limit: int) -> Notification | None:
    """A status notification, or None for any other frame (events, RPC replies)."""
    frame = load_object(payload, limit)
    method = frame.get("method")
    if not isinstance(method, str) or method not in _NOTIFICATIONS:
        return None
    params = field_object(frame, "params", "params")
    if params is None:
        raise DecodeError(RejectReason.MISSING_FIELD, "params is missing")
    ts = params.get("ts")
    return Notification(None if ts is None else unix_ms(ts, "params.ts"), params)


def merge(status: dict[str, object], change: dict[str, object]) -> None:
    """Overlay a NotifyStatus change on a known status, in place (null removes a field)."""
    for key, value in change.items():
        if value is None:
            status.pop(key, None)
        elif isinstance(value, dict) and isinstance(known := status.get(key), dict):
            merge(known, value)
        else:
            status[key] = value


def kept(status: dict[str, object], fields: Fields) -> dict[str, object]:
    """What `sample` reads of a status (the energy path, the power field, `errors`), to be kept
    between frames. `merge` treats every key on its own, so merging onto this gives what merging
    onto the whole status would, while frames adding other fields cannot grow it."""
    out: dict[str, object] = {}
    if fields.energy is not None:
        _keep_path(status, fields.energy, out)
    for key in (fields.power, "errors"):
        if key is not None and key in status:
            out[key] = status[key]
    return out


def _keep_path(source: dict[str, object], path: tuple[str, ...], out: dict[str, object]) -> None:
    key, rest = path[0], path[1:]
    if key not in source:
        return
    value = source[key]
    if rest and isinstance(value, dict):
        inner: dict[str, object] = {}
        _keep_path(value, rest, inner)
        out[key] = inner
    else:
        out[key] = value


def sample(
    status: dict[str, object], fields: Fields, measure: Measure, ts_ms: int | None
) -> Sample | None:
    """The component's reading, or None while the value the meter is billed on is unknown."""
    found = new_sample((ts_ms, _energy(status, fields), _power(status, fields), _fault(status)))
    return found if found.fault or has_billable(found, measure) else None


def parse_will(payload: bytes) -> Availability:
    return will(payload, _WILL, "online")


def _energy(status: dict[str, object], fields: Fields) -> int | None:
    if fields.energy is None:
        return None
    container: dict[str, object] | None = status
    for key in fields.energy[:-1]:
        if container is None:
            return None
        container = field_object(container, key, key)
    if container is None:
        return None
    return energy_from_wh(container.get(fields.energy[-1]), fields.energy_name)


def _power(status: dict[str, object], fields: Fields) -> int | None:
    return None if fields.power is None else power_from_w(status.get(fields.power), fields.power)


def _fault(status: dict[str, object]) -> bool:
    errors = status.get("errors")
    if errors is None or isinstance(errors, list):
        return bool(errors)
    raise DecodeError(RejectReason.WRONG_TYPE, f"errors is {kind_of(errors)}, not an array")
