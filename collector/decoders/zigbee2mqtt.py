"""Zigbee2MQTT metering plugs and DIN-rail meters: `zigbee2mqtt/<friendly name>`.

The state message carries `energy` (kWh) and `power` (W) among whatever else the device exposes,
and `last_seen` when the bridge's `advanced.last_seen` is set: `ISO_8601` (UTC, `...Z`),
`ISO_8601_local` (with the bridge's offset; without one it is read in the site zone, nearest the
receive time where the zone makes it ambiguous, see `common`) or `epoch` (milliseconds). A state
message may lack the billed value (a bridge with `cache_state: false` sends only what changed),
so such a message is simply not a reading (for a meter whose measure its first reading decides:
a message with neither value). Availability: `<topic>/availability`, `{"state":"online"}` or
the legacy plain `online`.
"""

from datetime import tzinfo

from levy.core.model import Availability, Measure, RejectReason

from .common import (
    DecodeError,
    Sample,
    check_size,
    energy_from_kwh,
    epoch_ms,
    has_billable,
    kind_of,
    load_json,
    load_object,
    new_sample,
    power_from_w,
    timestamp_ms,
)

AVAILABILITY = "availability"
_STATES = {"online": Availability.ONLINE, "offline": Availability.OFFLINE}


def parse(payload: bytes, limit: int) -> dict[str, object]:
    return load_object(payload, limit)


def sample(
    document: dict[str, object], measure: Measure | None, zone: tzinfo, received_ms: int
) -> Sample | None:
    ts_ms = _last_seen(document.get("last_seen"), zone, received_ms)
    energy = energy_from_kwh(document.get("energy"), "energy")
    power = power_from_w(document.get("power"), "power")
    found = new_sample((ts_ms, energy, power, False))
    return found if has_billable(found, measure) else None


def parse_availability(payload: bytes, limit: int) -> Availability:
    check_size(payload, limit)
    legacy = _STATES.get(payload.decode("utf-8", "replace"))
    if legacy is not None:
        return legacy
    document = load_json(payload, limit)
    state = document.get("state") if isinstance(document, dict) else document
    if isinstance(state, str) and state in _STATES:
        return _STATES[state]
    shown = repr(state[:40]) if isinstance(state, str) else kind_of(state)
    raise DecodeError(RejectReason.WRONG_TYPE, f"availability state {shown} is not online/offline")


def _last_seen(value: object, zone: tzinfo, received_ms: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        return timestamp_ms(value, "last_seen", zone, received_ms)
    return epoch_ms(value, "last_seen")
