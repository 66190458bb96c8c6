"""Recorded feeds: the JSON lines `mosquitto_sub -F '%j'` or `-F '%J'` prints, plain or gzipped.

mosquitto_sub prints `{"tst", "topic", "qos", "retain", "payloadlen", ["mid",] ["properties",]
"payload"}` per message. `tst` is the *local* time with microseconds, a literal `Z`, then the
real UTC offset (`strftime("%Y-%m-%dT%H:%M:%S.000000Z%z")` with the digits filled in), so
`2026-11-25T04:21:42.063128Z+0500` is 23:21:42 UTC: the offset wins over the `Z`.

`%j` prints the payload as a JSON string; mosquitto 2.0 copies bytes that are not UTF-8 into the
string unchanged (lines are therefore read as bytes and decoded with `surrogateescape`, which
gives those bytes back), and later versions print a payload with non-printable bytes as an array
of byte values, which `payloadlen` tells apart from a JSON array. `%J` prints the payload as
JSON (a payload that is not JSON is not printed at all), and it is re-serialised compactly here.
An empty payload is `null`.

The archive writes `%j` lines with `format_feed_line`, with three additions of its own, so that
garbage costs it little and replays as it was refused live: a payload that is not UTF-8 is kept
as base64 (`payload_b64`); a payload longer than the router's limit keeps its first KiB
(`payload_cut`, or `payload_cut_b64`), its length (`payloadlen`) and its SHA-256
(`payload_sha256`), and is read back as a `CutPayload`; a topic longer than `MAX_TOPIC_BYTES` is
cut there and marked `#cut:<bytes>` (see `cap_topic`).

Every line is read on its own: whatever is wrong with it (not JSON, nested deeper than
`MAX_NESTING`, a `tst` before 2000 or more than a year after the clock, a field of the wrong
kind) makes it a `FeedError` naming its line number, and the lines after it are read all the same.
"""

import base64
import binascii
import functools
import gzip
import hashlib
import json
import os
import re
import time
import zlib
from collections.abc import Iterator
from datetime import datetime
from json.encoder import encode_basestring
from typing import IO, NamedTuple, cast

import msgspec

from levy.core.model import from_fields
from levy.core.units import datetime_to_ms, ms_to_datetime

from .decoders.common import (
    DEFAULT_MAX_PAYLOAD,
    EARLIEST_MS,
    MAX_NESTING,
    MAX_TOPIC_BYTES,
    too_deep,
    topic_size,
)

GZIP_MAGIC = b"\x1f\x8b"
CUT_KEPT = 1024
"""Bytes kept of a payload longer than the limit (the rejection log keeps as many)."""
TOPIC_CUT = "#cut:"
"""Marks a topic cut short: `#` is a wildcard, never in a topic a broker delivers."""
MAX_PAYLOADLEN = 268_435_455
"""MQTT's largest payload (a 256 MiB remaining length)."""
AHEAD_MS = 366 * 86_400_000
"""A `tst` later than the clock plus this is a broken line, not a time to sweep to."""


class _Number:
    """A JSON number in a `%J` payload, kept as it was written (and never converted)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_JSON = json.JSONDecoder(parse_float=_Number)


class _PlainLine(msgspec.Struct, forbid_unknown_fields=True):
    """The common line, `%j` with the payload as a string (mosquitto's and the archive's): read
    by a compiled decoder. Anything else (another key, a payload of another kind, bytes that are
    not UTF-8) is read by `_JSON`, which reads every line there is; both give the same result."""

    tst: str
    topic: str
    payload: str | None
    payloadlen: int | None = None
    qos: int | None = None
    retain: bool | None = None
    mid: int | None = None


_PLAIN = msgspec.json.Decoder(_PlainLine)
_MOSQUITTO_TST = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z([+-]\d\d:?\d\d)")
_MOSQUITTO_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}")
"""`_MOSQUITTO_TST` without the fraction and the `Z`, its offset without a colon."""


class CutPayload(bytes):
    """A payload the archive kept only the first KiB of, standing for the whole: its bytes are
    that KiB (all the rejection log keeps), its `len` the length the payload had, so the router
    refuses it `oversized` before reading it, exactly as it refused the payload live."""

    length: int
    sha256: str

    def __new__(cls, head: bytes, length: int, sha256: str) -> "CutPayload":
        payload = super().__new__(cls, head)
        payload.length = length
        payload.sha256 = sha256
        return payload

    def __len__(self) -> int:
        return self.length

    def __reduce__(self) -> tuple[type["CutPayload"], tuple[bytes, int, str]]:
        """Pickled whole (a replay routes in a process of its own: `levy.app.routed_feed`)."""
        return CutPayload, (bytes(self), self.length, self.sha256)

    def __repr__(self) -> str:
        return f"CutPayload({bytes(self)!r}, length={self.length})"


class FeedLine(NamedTuple):
    line_no: int
    received_ms: int
    topic: str
    payload: bytes


new_feed_line = from_fields(FeedLine)


class FeedError(NamedTuple):
    """A line that could not be read; the lines after it are read all the same."""

    line_no: int
    problem: str


class _BadLine(Exception):
    pass


def read_feed(
    path: str | os.PathLike[str], now_ms: int | None = None
) -> Iterator[FeedLine | FeedError]:
    """The file's messages in order, opened now: an unreadable file raises OSError here.

    A line whose `tst` is later than `now_ms` (default: the wall clock now) plus `AHEAD_MS` is
    a `FeedError`, as is one before 2000.
    """
    latest_ms = (_wall_clock_ms() if now_ms is None else now_ms) + AHEAD_MS
    return _lines(_open(path), latest_ms)


def format_feed_line(
    received_ms: int, topic: str, payload: bytes, max_payload: int = DEFAULT_MAX_PAYLOAD
) -> str:
    """A `%j` line (without a newline) that `read_feed` reads back to the same message, or to
    what stands for it: a topic cut by `cap_topic`, a payload longer than `max_payload` cut to
    a `CutPayload` (`max_payload` must not be below the router's limit, or a payload the router
    accepted would replay as `oversized`).

    `tst` is written in UTC in mosquitto's own form; a payload that is not UTF-8 in base64.
    """
    tst = f"{_utc_second(received_ms // 1000)}.{received_ms % 1000:03d}000Z+0000"
    head = f'{{"tst":"{tst}","topic":{encode_basestring(cap_topic(topic))},"payloadlen":'
    if len(payload) > max_payload:
        digest = hashlib.sha256(payload).hexdigest()
        cut = _stored(payload[:CUT_KEPT], "payload_cut")
        return f'{head}{len(payload)},{cut},"payload_sha256":"{digest}"}}'
    return f"{head}{len(payload)},{_stored(payload, 'payload')}}}"


@functools.lru_cache(maxsize=4096)
def _utc_second(second: int) -> str:
    """A second's `tst` up to its fraction: the archive writes thousands of lines a second."""
    return ms_to_datetime(second * 1000).strftime("%Y-%m-%dT%H:%M:%S")


def cap_topic(topic: str) -> str:
    """The topic as the archive keeps it: whole up to `MAX_TOPIC_BYTES` bytes, else its first
    `MAX_TOPIC_BYTES` bytes (whole characters) and `#cut:<its length in bytes>`. The mark makes
    it longer than `MAX_TOPIC_BYTES` and holds a `#`, so it is nobody's topic on replay either."""
    if len(topic) <= MAX_TOPIC_BYTES // 4 or topic_size(topic) <= MAX_TOPIC_BYTES:
        return topic
    try:
        errors = "surrogateescape"
        encoded = topic.encode("utf-8", errors)
    except UnicodeEncodeError:  # a lone surrogate, as `topic_size` counts it
        errors = "surrogatepass"
        encoded = topic.encode("utf-8", errors)
    end = MAX_TOPIC_BYTES
    while end > 0 and encoded[end] & 0xC0 == 0x80:  # not inside a character
        end -= 1
    return f"{encoded[:end].decode('utf-8', errors)}{TOPIC_CUT}{len(encoded)}"


def parse_tst(text: str) -> int:
    """UTC epoch ms from mosquitto's `tst` or plain ISO 8601 with `Z` or an offset."""
    if len(text) == 32 and text[26] == "Z" and text[19] == ".":
        fraction = text[20:26]
        if fraction.isdigit() and fraction.isascii():
            second_ms = _second_ms(text[:19] + text[27:])
            if second_ms is not None:
                return second_ms + int(fraction) // 1000
    match = _MOSQUITTO_TST.fullmatch(text)
    if match is None:
        return _iso_ms(text)
    stamp = match[1]
    milliseconds = int((stamp[20:23] + "00")[:3]) if len(stamp) > 20 else 0
    return _whole_second_ms(stamp[:19], match[2]) + milliseconds


@functools.lru_cache(maxsize=4096)
def _second_ms(second: str) -> int | None:
    """The second of a `tst` in the form every `%j` line has (microseconds, `Z`, a `+hhmm`
    offset), its fraction taken out: one cached look-up per line instead of a regex match.
    None when it is not that form (`parse_tst` then reads it the general way)."""
    if _MOSQUITTO_SECOND.fullmatch(second) is None:
        return None
    return _iso_ms(second)


@functools.lru_cache(maxsize=4096)
def _whole_second_ms(stamp: str, offset: str) -> int:
    """Cached: a feed has many lines per second, and datetime parsing dominates reading one."""
    return _iso_ms(stamp + offset)


def _iso_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("it has no UTC offset")
    return datetime_to_ms(moment)


def _open(path: str | os.PathLike[str]) -> IO[bytes]:
    with open(path, "rb") as probe:
        compressed = probe.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    if compressed:
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile reads as any binary file
    return open(path, "rb")


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _lines(stream: IO[bytes], latest_ms: int) -> Iterator[FeedLine | FeedError]:
    line_no = 0
    with stream:
        try:
            for line_no, raw in enumerate(stream, start=1):
                if not raw.isspace():  # never empty; `strip` would copy every line
                    yield _parse(line_no, raw, latest_ms)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            yield FeedError(line_no + 1, f"compressed data is cut short or corrupt: {exc}")


def _parse(line_no: int, raw: bytes, latest_ms: int) -> FeedLine | FeedError:
    try:
        plain = _PLAIN.decode(raw)
    except msgspec.DecodeError:
        return _parse_any(line_no, raw, latest_ms)
    try:
        received_ms = _received_ms_of(plain.tst, latest_ms)
        payload = b"" if plain.payload is None else _from_string(plain.payload, plain.payloadlen)
        return new_feed_line((line_no, received_ms, _checked_topic(plain.topic), payload))
    except _BadLine as exc:
        return FeedError(line_no, str(exc))


def _parse_any(line_no: int, raw: bytes, latest_ms: int) -> FeedLine | FeedError:
    if too_deep(raw, MAX_NESTING + 1):  # the line's own object holds the payload
        return FeedError(line_no, f"JSON nested deeper than {MAX_NESTING}")
    try:
        record = _JSON.decode(raw.decode("utf-8", "surrogateescape"))
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        return FeedError(line_no, f"not JSON: {_short(exc)}")
    try:
        if not isinstance(record, dict):
            raise _BadLine("the line is not a JSON object")
        received_ms = _received_ms(record, latest_ms)
        return new_feed_line((line_no, received_ms, _topic(record), _payload(record)))
    except _BadLine as exc:
        return FeedError(line_no, str(exc))
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        return FeedError(line_no, f"unreadable: {type(exc).__name__}: {_short(exc)}")


def _short(exc: Exception) -> str:
    return str(exc)[:200].encode("utf-8", "backslashreplace").decode("utf-8")


def _received_ms(record: dict[str, object], latest_ms: int) -> int:
    tst = record.get("tst")
    if type(tst) is not str:
        raise _BadLine("tst is missing" if tst is None else "tst is not a string")
    return _received_ms_of(tst, latest_ms)


def _received_ms_of(tst: str, latest_ms: int) -> int:
    try:
        received_ms = parse_tst(tst)
    except (ValueError, OverflowError) as exc:
        raise _BadLine(f"tst {tst[:60]!r} is not a time: {exc}") from None
    if not EARLIEST_MS <= received_ms <= latest_ms:
        raise _BadLine(
            f"tst {tst[:60]!r} is outside 2000-01-01 .. {_iso(latest_ms)} (a year after the clock)"
        )
    return received_ms


def _iso(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%dT%H:%MZ")


def _topic(record: dict[str, object]) -> str:
    topic = record.get("topic")
    if type(topic) is not str or not topic:
        raise _BadLine("topic is missing" if topic is None else "topic is not a non-empty string")
    return _checked_topic(topic)


def _checked_topic(topic: str) -> str:
    if not topic:
        raise _BadLine("topic is not a non-empty string")
    if topic.isascii():  # the usual topic, and one that cannot hold a lone surrogate
        return topic
    try:
        topic.encode("utf-8")
    except UnicodeEncodeError:
        # No broker delivers such a topic (MQTT requires UTF-8), and no ledger could store it.
        raise _BadLine(f"topic {topic[:60]!r} is not UTF-8 text") from None
    return topic


def _payload(record: dict[str, object]) -> bytes:
    length = record.get("payloadlen")
    if "payload_b64" in record:
        return _base64(record["payload_b64"], "payload_b64")
    if "payload_cut" in record or "payload_cut_b64" in record:
        return _cut(record, length)
    if "payload" not in record:
        raise _BadLine("payload is missing")
    payload = record["payload"]
    if payload is None:
        return b""
    if type(payload) is str:
        return _from_string(payload, length)
    if isinstance(payload, list) and len(payload) == length and _all_bytes(payload):
        return bytes(payload)
    return _encode(_compact(payload))


def _cut(record: dict[str, object], length: object) -> CutPayload:
    if "payload_cut" in record:
        text = record["payload_cut"]
        if type(text) is not str:
            raise _BadLine("payload_cut is not a string")
        head = _encode(text)
    else:
        head = _base64(record["payload_cut_b64"], "payload_cut_b64")
    if type(length) is not int or not len(head) < length <= MAX_PAYLOADLEN:
        raise _BadLine("payloadlen of a cut payload is not a length beyond what was kept")
    digest = record.get("payload_sha256")
    if type(digest) is not str or not re.fullmatch("[0-9a-f]{64}", digest):
        raise _BadLine("payload_sha256 is not a SHA-256 in hex")
    return CutPayload(head, length, digest)


def _base64(text: object, key: str) -> bytes:
    if type(text) is not str:
        raise _BadLine(f"{key} is not a string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _BadLine(f"{key} is not base64") from None


def _from_string(text: str, length: object) -> bytes:
    """A `%j` string; under `%J` a payload that is itself a JSON string also prints as a string,
    and only `payloadlen` can tell the two apart."""
    payload = _encode(text)
    if isinstance(length, int) and length != len(payload):
        quoted = _encode(json.dumps(text, ensure_ascii=False))
        if len(quoted) == length:
            return quoted
    return payload


def _all_bytes(values: list[object]) -> bool:
    return all(type(value) is int and 0 <= value <= 255 for value in values)


def _compact(value: object) -> str:
    """JSON without spaces, numbers written exactly as they were read."""
    if isinstance(value, _Number):
        return value.text
    if isinstance(value, dict):
        items = (f"{json.dumps(key, ensure_ascii=False)}:{_compact(v)}" for key, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(_compact, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise _BadLine("payload holds a lone surrogate escape, not text") from None


def _stored(payload: bytes, key: str) -> str:
    """`"key":text`, `"key":null` when empty, or `"key_b64":base64` when not UTF-8, as the
    members of a `json.dumps(ensure_ascii=False)` object."""
    if not payload:
        return f'"{key}":null'
    try:
        return f'"{key}":{encode_basestring(payload.decode("utf-8"))}'
    except UnicodeDecodeError:
        return f'"{key}_b64":"{base64.b64encode(payload).decode("ascii")}"'
