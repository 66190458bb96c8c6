"""Our own payload, for rigs that publish directly (DESIGN.md section 4).

`{"ts": <unix seconds or ISO 8601>, "energy_kwh": <number>, "power_w": <number>, "fault": <bool>}`:
`energy_kwh` or `power_w` is required, `ts` and `fault` are optional. A payload with `fault: true`
may carry no value at all: a meter that knows it has failed often has nothing valid to report.
A meter whose measure its first reading decides gets every value the payload has; a pinned one
needs its own. A naive ISO `ts` is local time (see `common`: nearest the receive time where the
zone's clock changes make it ambiguous).
"""

from datetime import tzinfo

from levy.core.model import Measure, RejectReason

from .common import (
    DecodeError,
    Sample,
    energy_from_kwh,
    kind_of,
    load_object,
    new_sample,
    power_from_w,
    require_billable,
    timestamp_ms,
)


def parse(payload: bytes, limit: int) -> dict[str, object]:
    return load_object(payload, limit)


def sample(
    document: dict[str, object], measure: Measure | None, zone: tzinfo, received_ms: int
) -> Sample:
    ts = document.get("ts")
    fault = document.get("fault", False)
    if type(fault) is not bool:
        raise DecodeError(RejectReason.WRONG_TYPE, f"fault is {kind_of(fault)}, not a boolean")
    energy = energy_from_kwh(document.get("energy_kwh"), "energy_kwh")
    power = power_from_w(document.get("power_w"), "power_w")
    if energy is None and power is None and not fault:
        raise DecodeError(RejectReason.MISSING_FIELD, "neither energy_kwh nor power_w is present")
    when = None if ts is None else timestamp_ms(ts, "ts", zone, received_ms)
    found = new_sample((when, energy, power, fault))
    return require_billable(found, measure, "energy_kwh", "power_w")
