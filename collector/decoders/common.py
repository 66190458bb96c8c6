"""What every device decoder shares: exact numbers, units, timestamps, and one way of saying no.

Numbers are parsed straight to `Decimal` (never through binary floating point), so a register of
12345.678 kWh becomes exactly 44_444_440_800_000 mJ. A decoder that cannot use a payload raises
`DecodeError` carrying the `RejectReason` the core counts and a short detail for the log.

A payload's naive local time (Tasmota's `Time`, a native ISO `ts` or zigbee2mqtt's `last_seen`
without an offset) is read in the site zone. Where the zone makes it ambiguous (the repeated hour
when the clocks go back: fold 0 and fold 1) or non-existent (the hour skipped when they go
forward: the readings with the offsets before and after the change, which straddle the gap), the
candidate nearest the message's receive time is taken, the earlier on a tie: a device's clock is
trusted to be roughly right, never to say which side of a change it meant. So the timestamp
functions take the receive time as well as the zone.

What a meter measures (`Measure`) is pinned by its configuration, or None: decided by its first
valid reading (DESIGN.md rule 5), so a payload for such a meter is read for every value it has.
"""

import functools
import json
import re
from collections.abc import Mapping, Sized
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import NamedTuple

import msgspec

from levy.core.localtime import local_candidates, nearest
from levy.core.model import Availability, Measure, RejectReason, from_fields
from levy.core.units import datetime_to_ms, kwh_to_mj, seconds_to_ms, w_to_mw

DEFAULT_MAX_PAYLOAD = 64 * 1024
MAX_TOPIC_BYTES = 1024
"""A longer topic is no meter's (a configured one is refused), and the archive cuts it here."""
WH_PER_KWH = 1000
MAX_NESTING = 64
"""No device nests its JSON anywhere near this deep; deeper is refused before it is parsed."""

OUT_OF_RANGE = Decimal("NaN")
"""What a JSON number beyond `Decimal`'s exponent range (`1E+1000000000000000000`) is read as:
parsing never fails on a number, and only a field the levy reads refuses it (`non_finite`)."""


def json_number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation: the exponent is out of range
        return OUT_OF_RANGE


# One decoder, built once: `json.loads` with these options would build a new one per message.
_JSON = json.JSONDecoder(parse_float=json_number, parse_int=json_number, parse_constant=Decimal)
# The compiled decoder reads what almost every device sends, several times faster; it refuses
# what `_JSON` reads differently or not at all (NaN, integers beyond 64 bits, lone surrogates,
# bytes that are not UTF-8, a number beyond `Decimal`'s exponent range), and `_JSON` then reads
# the payload as it always did.
_FAST = msgspec.json.Decoder(float_hook=Decimal)
# A JSON string (or what is left of one cut short, to the end), and the bytes that are not brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")

# A device whose clock was never set reports 1970 (Tasmota before NTP sync, for one); such a time
# would become a baseline decades before the accounting start, so it is refused here.
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
LATEST_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
# Converting 1E+999999999 to an integer would take the whole machine; nothing a meter or a clock
# reports has more than 15 digits before the point.
MAX_DIGITS = 15


class DecodeError(Exception):
    """A payload the levy cannot use; the router turns it into a `Rejection`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Sample(NamedTuple):
    """What one payload says about one channel, already in the core's integer units.

    `ts_ms` is None when the payload carries no time of its own (the receive time then applies).
    """

    ts_ms: int | None
    energy_mj: int | None = None
    power_mw: int | None = None
    fault: bool = False


new_sample = from_fields(Sample)
"""A `Sample` from all four fields (see `from_fields`): one a payload's meter."""


def kind_of(value: object) -> str:
    """Name a JSON value's type the way a device's documentation would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def topic_size(topic: str) -> int:
    """A topic's length in bytes as the archive writes it (a surrogate escape as its byte)."""
    try:
        return len(topic.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a lone surrogate no broker would pass
        return len(topic.encode("utf-8", "surrogatepass"))


def size_of(payload: Sized) -> int:
    """A payload's length in bytes: a cut payload's (`collector.feed.CutPayload`) is the whole
    payload's, which its `__len__` says. Asked as `Sized`: the `len` of a `bytes` in compiled
    code reads the bytes themselves, past the override."""
    return len(payload)


def check_size(payload: bytes, limit: int) -> None:
    size = size_of(payload)
    if size > limit:
        raise DecodeError(RejectReason.OVERSIZED, f"payload of {size} bytes exceeds {limit}")


def too_deep(text: bytes, limit: int = MAX_NESTING) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep (brackets inside
    strings do not count). Linear in the text, and free for text with few brackets."""
    if len(text) <= limit or text.count(b"[") + text.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _STRING.sub(b"", text).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        if depth > limit:
            return True
    return False


def load_json(payload: bytes, limit: int) -> object:
    """Parse a JSON payload with every number (NaN and Infinity too) as an exact `Decimal`.

    Non-finite values (and numbers beyond any range, see `OUT_OF_RANGE`) are only refused where
    a decoder reads them, so a NaN in a field the levy ignores (a temperature, say) does not
    cost the reading.
    """
    check_size(payload, limit)
    if too_deep(payload):
        raise DecodeError(RejectReason.BAD_JSON, f"JSON nested deeper than {MAX_NESTING}")
    try:
        return _integers_exact(_FAST.decode(payload))
    except (msgspec.DecodeError, ArithmeticError):  # InvalidOperation: see `OUT_OF_RANGE`
        pass
    try:
        return _JSON.decode(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise DecodeError(RejectReason.BAD_JSON, "payload is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(RejectReason.BAD_JSON, f"not JSON: {exc}") from None
    except RecursionError:
        raise DecodeError(RejectReason.BAD_JSON, "JSON nested too deeply") from None


def _integers_exact(value: object) -> object:
    """The compiled decoder's integers as the `Decimal`s `_JSON` gives (floats already are).
    The containers are the decoder's own, fresh: changed in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) is int:
                value[key] = Decimal(item)
            elif type(item) is dict or type(item) is list:
                _integers_exact(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if type(item) is int:
                value[index] = Decimal(item)
            elif type(item) is dict or type(item) is list:
                _integers_exact(item)
    elif type(value) is int:
        return Decimal(value)
    return value


def load_object(payload: bytes, limit: int) -> dict[str, object]:
    document = load_json(payload, limit)
    if not isinstance(document, dict):
        raise DecodeError(
            RejectReason.NOT_OBJECT, f"payload is {kind_of(document)}, not a JSON object"
        )
    return document


def field_object(container: dict[str, object], key: str, name: str) -> dict[str, object] | None:
    """A nested object that may be absent (or null), but is an object when present."""
    value = container.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise DecodeError(RejectReason.WRONG_TYPE, f"{name} is {kind_of(value)}, not an object")


def number(value: object, name: str) -> Decimal:
    """A meter value: a finite, non-negative JSON number (a boolean is not a number here)."""
    if type(value) is not Decimal:
        raise DecodeError(RejectReason.WRONG_TYPE, f"{name} is {kind_of(value)}, not a number")
    if not value.is_finite():
        raise DecodeError(RejectReason.NON_FINITE, f"{name} is {_shown(value)}")
    if value.adjusted() >= MAX_DIGITS:
        raise DecodeError(RejectReason.NON_FINITE, f"{name} is {value}, beyond any meter's range")
    if value < 0:
        raise DecodeError(RejectReason.NEGATIVE, f"{name} is {value}")
    return value


def _shown(value: Decimal) -> str:
    return "beyond any number's range" if value is OUT_OF_RANGE else str(value)


def energy_from_kwh(value: object, name: str) -> int | None:
    """Millijoules from a kWh value; None when the field is absent or null."""
    return None if value is None else kwh_to_mj(number(value, name))


def energy_from_wh(value: object, name: str) -> int | None:
    """Millijoules from a Wh value (Shelly's unit); None when absent or null."""
    return None if value is None else kwh_to_mj(number(value, name) / WH_PER_KWH)


def power_from_w(value: object, name: str) -> int | None:
    """Milliwatts from a W value; None when absent or null."""
    return None if value is None else w_to_mw(number(value, name))


def timestamp_ms(value: object, name: str, zone: tzinfo, received_ms: int) -> int:
    """UTC epoch ms from unix seconds (integer or decimal) or ISO 8601 (naive: in `zone`, the
    candidate nearest `received_ms` where the zone makes it ambiguous or non-existent)."""
    if isinstance(value, str):
        return _in_range(_iso_ms(value, name, zone, received_ms), name)
    if type(value) is not Decimal:
        raise DecodeError(
            RejectReason.WRONG_TYPE,
            f"{name} is {kind_of(value)}, not unix seconds or an ISO 8601 string",
        )
    return unix_ms(value, name)


def unix_ms(value: object, name: str) -> int:
    """UTC epoch ms from unix seconds, integer or decimal."""
    if type(value) is not Decimal:
        raise DecodeError(RejectReason.WRONG_TYPE, f"{name} is {kind_of(value)}, not unix seconds")
    if not value.is_finite() or value.adjusted() >= MAX_DIGITS:
        raise DecodeError(RejectReason.BAD_TIMESTAMP, f"{name} is {_shown(value)}")
    return _in_range(seconds_to_ms(value), name)


def epoch_ms(value: object, name: str) -> int:
    """UTC epoch ms from a number of milliseconds (zigbee2mqtt's `last_seen: epoch`)."""
    if type(value) is not Decimal:
        raise DecodeError(RejectReason.WRONG_TYPE, f"{name} is {kind_of(value)}, not a number")
    if not value.is_finite() or value.adjusted() >= MAX_DIGITS:
        raise DecodeError(RejectReason.BAD_TIMESTAMP, f"{name} is {_shown(value)}")
    return _in_range(seconds_to_ms(value / 1000), name)


def _iso_ms(text: str, name: str, zone: tzinfo, received_ms: int) -> int:
    try:
        return nearest(_iso_instants(text, zone), received_ms)
    except (ValueError, OverflowError):
        raise DecodeError(
            RejectReason.BAD_TIMESTAMP, f"{name} {text[:40]!r} is not an ISO 8601 time"
        ) from None


@functools.lru_cache(maxsize=4096)
def _iso_instants(text: str, zone: tzinfo) -> tuple[int, ...]:
    """The instants an ISO 8601 time can mean: its own with an offset, else its candidates as
    a local time in `zone`. Cached: a fleet's devices stamp thousands of messages with one
    second (a Tasmota's `Time`), and parsing and resolving it was half of routing one. Only
    times that parse are kept, and those are short."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return local_candidates(moment, zone)
    return (datetime_to_ms(moment),)


def _in_range(ms: int, name: str) -> int:
    if not EARLIEST_MS <= ms <= LATEST_MS:
        raise DecodeError(
            RejectReason.BAD_TIMESTAMP, f"{name} is {ms} ms, outside 2000..2100 (clock not set?)"
        )
    return ms


def has_billable(sample: Sample, measure: Measure | None) -> bool:
    """Whether the sample carries the value a meter of this measure is billed on (for a meter
    whose measure its first reading decides: either value)."""
    if measure is None:
        return sample.energy_mj is not None or sample.power_mw is not None
    if measure is Measure.ENERGY:
        return sample.energy_mj is not None
    return sample.power_mw is not None


def require_billable(
    sample: Sample, measure: Measure | None, energy_name: str, power_name: str
) -> Sample:
    """For single-message formats: a payload without the billed value (and no fault) is refused."""
    if sample.fault or has_billable(sample, measure):
        return sample
    if measure is None:
        raise DecodeError(
            RejectReason.MISSING_FIELD, f"neither {energy_name} nor {power_name} is present"
        )
    missing = energy_name if measure is Measure.ENERGY else power_name
    raise DecodeError(RejectReason.MISSING_FIELD, f"{missing} is missing")


def will(payload: bytes, states: Mapping[bytes, Availability], name: str) -> Availability:
    """A device's availability message, by its exact payload (one of the two in `states`)."""
    try:
        return states[payload]
    except KeyError:
        expected = " nor ".join(state.decode() for state in states)
        raise DecodeError(
            RejectReason.WRONG_TYPE, f"{name} payload {payload[:40]!r} is neither {expected}"
        ) from None
