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
An empty payload is `null`. The archive writes `%j` lines with `format_feed_line`.
"""

import functools
import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from levy.core.units import datetime_to_ms, ms_to_datetime

GZIP_MAGIC = b"\x1f\x8b"
_JSON = json.JSONDecoder(parse_float=Decimal)
_MOSQUITTO_TST = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z([+-]\d\d:?\d\d)")


@dataclass(frozen=True, slots=True)
class FeedLine:
    line_no: int
    received_ms: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class FeedError:
    """A line that could not be read; the lines after it are read all the same."""

    line_no: int
    problem: str


class _BadLine(Exception):
    pass


def read_feed(path: str | os.PathLike[str]) -> Iterator[FeedLine | FeedError]:
    """The file's messages in order, opened now: an unreadable file raises OSError here."""
    return _lines(_open(path))


def format_feed_line(received_ms: int, topic: str, payload: bytes) -> str:
    """A `%j` line (without a newline) that `read_feed` reads back to the same message.

    `tst` is written in UTC in mosquitto's own form. A payload that is not UTF-8 is written as
    an array of byte values, as newer mosquitto_sub versions do.
    """
    tst = ms_to_datetime(received_ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ+0000")
    record = {"tst": tst, "topic": topic, "payloadlen": len(payload), "payload": _escaped(payload)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def parse_tst(text: str) -> int:
    """UTC epoch ms from mosquitto's `tst` or plain ISO 8601 with `Z` or an offset."""
    match = _MOSQUITTO_TST.fullmatch(text)
    if match is None:
        return _iso_ms(text)
    stamp = match[1]
    milliseconds = int((stamp[20:23] + "00")[:3]) if len(stamp) > 20 else 0
    return _whole_second_ms(stamp[:19], match[2]) + milliseconds


@functools.lru_cache(maxsize=4096)
def _whole_second_ms(stamp: str, offset: str) -> int:
    """Cached: a feed has many lines per second, and datetime parsing dominates reading one."""
    return _iso_ms(stamp + offset)


def _iso_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("it has no UTC offset")
    return datetime_to_ms(moment)


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    with open(path, "rb") as probe:
        compressed = probe.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _lines(stream: BinaryIO) -> Iterator[FeedLine | FeedError]:
    line_no = 0
    with stream:
        try:
            for line_no, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield _parse(line_no, raw)
        except (EOFError, zlib.error) as exc:
            yield FeedError(line_no + 1, f"compressed data is cut short or corrupt: {exc}")


def _parse(line_no: int, raw: bytes) -> FeedLine | FeedError:
    try:
        record = _JSON.decode(raw.decode("utf-8", "surrogateescape"))
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        return FeedError(line_no, f"not JSON: {exc}")
    except RecursionError:
        return FeedError(line_no, "JSON nested too deeply")
    try:
        if not isinstance(record, dict):
            raise _BadLine("the line is not a JSON object")
        return FeedLine(line_no, _received_ms(record), _topic(record), _payload(record))
    except _BadLine as exc:
        return FeedError(line_no, str(exc))


def _received_ms(record: dict[str, object]) -> int:
    tst = record.get("tst")
    if not isinstance(tst, str):
        raise _BadLine("tst is missing" if tst is None else "tst is not a string")
    try:
        return parse_tst(tst)
    except (ValueError, OverflowError) as exc:
        raise _BadLine(f"tst {tst[:60]!r} is not a time: {exc}") from None


def _topic(record: dict[str, object]) -> str:
    topic = record.get("topic")
    if not isinstance(topic, str) or not topic:
        raise _BadLine("topic is missing" if topic is None else "topic is not a non-empty string")
    return topic


def _payload(record: dict[str, object]) -> bytes:
    if "payload" not in record:
        raise _BadLine("payload is missing")
    payload = record["payload"]
    length = record.get("payloadlen")
    if payload is None:
        return b""
    if isinstance(payload, str):
        return _from_string(payload, length)
    if isinstance(payload, list) and len(payload) == length and _all_bytes(payload):
        return bytes(payload)
    return _encode(_compact(payload))


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
    if isinstance(value, Decimal):
        return str(value)
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


def _escaped(payload: bytes) -> str | list[int] | None:
    if not payload:
        return None
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return list(payload)
