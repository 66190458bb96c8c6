"""mbmd, the ModBus Measurement Daemon (Eastron SDM630 and other DIN-rail meters).

mbmd publishes each reading as plain text (Go's `%.3f`) on `<root>/<device>/<Measurement>`, where
`<device>` is the device id lowercased with `.` turned into `-` (`SDM1.1` -> `sdm1-1`). The levy
reads `Import` (total import, kWh) and `Power` (W); there is no timestamp. mbmd's will is
`<root>/status`, retained: `connected`, or `disconnected` when it goes away, for all its devices.
"""

from decimal import Decimal, InvalidOperation

from levy.core.model import Availability, RejectReason
from levy.core.units import kwh_to_mj, w_to_mw

from .common import DecodeError, check_size, number, will

IMPORT = "Import"
POWER = "Power"
STATUS = "status"
_WILL = {b"connected": Availability.ONLINE, b"disconnected": Availability.OFFLINE}


def parse_import(payload: bytes, limit: int) -> int:
    """The import register in mJ."""
    return kwh_to_mj(number(_plain_number(payload, limit), IMPORT))


def parse_power(payload: bytes, limit: int) -> int:
    """The active power in mW."""
    return w_to_mw(number(_plain_number(payload, limit), POWER))


def parse_will(payload: bytes) -> Availability:
    return will(payload, _WILL, "status")


def status_topic(prefix: str) -> str | None:
    """`<root>/status` for a device prefix `<root>/<device>`."""
    root, slash, _ = prefix.rpartition("/")
    return f"{root}/{STATUS}" if slash and root else None


def _plain_number(payload: bytes, limit: int) -> Decimal:
    """Go prints NaN and infinities as `NaN`, `+Inf`, `-Inf`; Decimal reads all three."""
    check_size(payload, limit)
    text = payload.strip().decode("ascii", "replace")
    if "_" in text:  # Decimal accepts digit separators, which no meter sends
        raise DecodeError(RejectReason.WRONG_TYPE, f"payload {text[:40]!r} is not a number")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise DecodeError(
            RejectReason.WRONG_TYPE, f"payload {text[:40]!r} is not a number"
        ) from None
