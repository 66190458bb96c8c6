"""Recorded feeds: mosquitto_sub's %j and %J lines, plain or gzipped, and our own archive lines.

Line shapes follow mosquitto's client/sub_client_output.c (json_print):
https://github.com/eclipse/mosquitto/blob/master/client/sub_client_output.c
{"tst":..., "topic":..., "qos":..., "retain":..., "payloadlen":..., ["mid":...,] "payload":...}
with tst = strftime("%Y-%m-%dT%H:%M:%S.000000Z%z") of the local time, microseconds filled in.
"""

import base64
import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector import feed
from collector.feed import FeedError, FeedLine, format_feed_line, parse_tst, read_feed
from collector.router import Router
from levy.core.model import Reading
from tests.collector.support import ALMATY, Meter, utc_ms

TST = "2026-11-24T23:21:42.063128Z+0000"
MS = utc_ms(2026, 11, 24, 23, 21, 42) + 63
SENSOR = (
    b'{"Time":"2026-11-25T04:21:42","ENERGY":{"Total":0.984,"Yesterday":0.000,"Today":0.984,'
    b'"Period":12,"Power":145,"Factor":0.90,"Voltage":220,"Current":0.731}}'
)


def percent_j(payload: bytes, topic: str = "tele/pow1/SENSOR", tst: str = TST) -> str:
    """What `mosquitto_sub -F %j` prints for a text payload (QoS 1, so with a mid)."""
    text = json.dumps(payload.decode(), separators=(",", ":"))
    return (
        f'{{"tst":"{tst}","topic":"{topic}","qos":1,"retain":0,'
        f'"payloadlen":{len(payload)},"mid":7,"payload":{text}}}'
    )


def percent_capital_j(payload: bytes, topic: str = "tele/pow1/SENSOR") -> str:
    """What `mosquitto_sub -F %J` prints: the payload inlined as JSON."""
    return (
        f'{{"tst":"{TST}","topic":"{topic}","qos":0,"retain":1,'
        f'"payloadlen":{len(payload)},"payload":{payload.decode()}}}'
    )


def write(tmp_path: Path, lines: list[str], name: str = "feed.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_percent_j_and_percent_capital_j(tmp_path: Path) -> None:
    path = write(tmp_path, [percent_j(SENSOR), percent_capital_j(SENSOR)])
    assert list(read_feed(path)) == [
        FeedLine(1, MS, "tele/pow1/SENSOR", SENSOR),
        FeedLine(2, MS, "tele/pow1/SENSOR", SENSOR),  # compact already, numbers kept as written
    ]


def test_percent_capital_j_is_reserialised_compactly_with_exact_numbers(tmp_path: Path) -> None:
    spaced = b'{ "Time": "2026-11-25T04:21:42", "ENERGY": {"Total": 12345.678000, "Power": 1E+3} }'
    [line] = read_feed(write(tmp_path, [percent_capital_j(spaced)]))
    assert (
        line.payload
        == b'{"Time":"2026-11-25T04:21:42","ENERGY":{"Total":12345.678000,"Power":1E+3}}'
    )


def test_tst_forms() -> None:
    # mosquitto prints local time, then a literal Z, then the real offset: the offset wins.
    assert parse_tst("2026-11-25T04:21:42.063128Z+0500") == MS
    assert parse_tst("2026-11-24T23:21:42.063128Z") == MS
    assert parse_tst("2026-11-24T23:21:42.063+00:00") == MS
    assert parse_tst("2026-11-25T04:21:42.063+05:00") == MS
    with pytest.raises(ValueError, match="offset"):
        parse_tst("2026-11-24T23:21:42")


@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59),
)
def test_a_percent_j_tst_is_read_as_its_iso_8601_time(local: datetime, offset_min: int) -> None:
    """The form every `%j` line has, read by a cached look-up of its second: the same time as
    ISO 8601 gives, to the millisecond (the fraction cut, never rounded)."""
    hours, minutes = divmod(abs(offset_min), 60)
    offset = f"{'-' if offset_min < 0 else '+'}{hours:02d}{minutes:02d}"
    stamp = f"{local.strftime('%Y-%m-%dT%H:%M:%S.%f')}"
    moment = datetime.fromisoformat(f"{stamp}{offset[:3]}:{offset[3:]}")
    assert parse_tst(f"{stamp}Z{offset}") == utc_ms(*moment.astimezone(UTC).timetuple()[:6]) + (
        local.microsecond // 1000
    )


def test_tst_forms_beside_the_usual_one_are_read_as_before() -> None:
    """Digits that are not ASCII, a date that does not exist: the general reading decides."""
    assert parse_tst("2026-11-24T23:21:42.\u0660\u0666\u0663128Z+0000") == MS
    assert parse_tst("2026-11-24T23:21:42.063128Z+00:00") == MS
    with pytest.raises(ValueError, match="month"):
        parse_tst("2026-13-24T23:21:42.063128Z+0000")
    with pytest.raises(ValueError):
        parse_tst("2026-11-24T23:21:42.06312xZ+0000")


def test_gzip_is_detected_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    packed = tmp_path / "archive-2026-11-24T23.jsonl"
    with gzip.open(packed, "wt", encoding="utf-8") as out:
        out.write(percent_j(SENSOR) + "\n" + percent_j(b"Online", "tele/pow1/LWT") + "\n")
    plain = write(tmp_path, [percent_j(b"Online", "tele/pow1/LWT")], name="looks-packed.jsonl.gz")
    assert [line.payload for line in read_feed(packed)] == [SENSOR, b"Online"]
    assert [line.payload for line in read_feed(plain)] == [b"Online"]


def test_malformed_lines_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    good = percent_j(SENSOR)
    lines = [
        good,
        '{"tst":"2026-11-24T23:21:42.063128Z+0000","topic":"t","payload":',
        '{"topic":"t","payload":"x"}',
        '{"tst":"yesterday","topic":"t","payload":"x"}',
        '{"tst":"2026-11-24T23:21:42","topic":"t","payload":"x"}',
        f'{{"tst":"{TST}","payload":"x"}}',
        f'{{"tst":"{TST}","topic":"t"}}',
        '["not", "an", "object"]',
        "",
        f'{{"tst":"{TST}","topic":"t","payloadlen":{"9" * 5000},"payload":"x"}}',
        good,
    ]
    results = list(read_feed(write(tmp_path, lines)))
    assert [type(r).__name__ for r in results] == ["FeedLine"] + ["FeedError"] * 8 + ["FeedLine"]
    assert [r.line_no for r in results] == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    problems = [r.problem for r in results if isinstance(r, FeedError)]
    assert "not JSON" in problems[0]
    assert problems[1] == "tst is missing"
    assert "not a time" in problems[2]
    assert "offset" in problems[3]
    assert problems[4] == "topic is missing"
    assert problems[5] == "payload is missing"
    assert "not a JSON object" in problems[6]


def test_binary_payloads_in_every_form_mosquitto_prints(tmp_path: Path) -> None:
    head = f'{{"tst":"{TST}","topic":"bin","qos":0,"retain":0,"payloadlen":3,"payload":'.encode()
    mosquitto_2_0 = head + b'"\xff\xfeA"}'  # 2.0 copies the raw bytes into the string
    newer = head + b"[255,254,65]}"  # later versions print non-printable payloads as bytes
    path = tmp_path / "binary.jsonl"
    path.write_bytes(mosquitto_2_0 + b"\n" + newer + b"\n")
    assert [line.payload for line in read_feed(path)] == [b"\xff\xfeA", b"\xff\xfeA"]


def test_json_arrays_strings_and_empty_payloads_under_percent_capital_j(tmp_path: Path) -> None:
    lines = [
        percent_capital_j(b"[1,2,3]"),  # a JSON array payload, not bytes: payloadlen is 7
        percent_capital_j(b'"online"'),  # a JSON string payload prints as a string
        percent_capital_j(b"1234.567"),
        f'{{"tst":"{TST}","topic":"t","qos":0,"retain":1,"payloadlen":0,"payload":null}}',
    ]
    payloads = [line.payload for line in read_feed(write(tmp_path, lines))]
    assert payloads == [b"[1,2,3]", b'"online"', b"1234.567", b""]


def test_truncated_gzip_reports_where_it_stops(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    body = gzip.compress(("\n".join([percent_j(SENSOR)] * 200) + "\n").encode())
    path.write_bytes(body[: len(body) - 40])
    results = list(read_feed(path))
    assert isinstance(results[0], FeedLine)
    assert isinstance(results[-1], FeedError)
    assert "cut short" in results[-1].problem


def test_unreadable_file_raises_oserror_at_once(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_feed(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    "payload",
    [SENSOR, b"Online", b"", b"\xff\x00\x80binary", 'Экибастуз ✓\n\t"q"'.encode(), b"\x00"],
)
def test_archive_lines_round_trip(tmp_path: Path, payload: bytes) -> None:
    line = format_feed_line(MS, "mining/экибастуз/rig-1", payload)
    assert "\n" not in line
    record = json.loads(line)
    assert record["tst"] == "2026-11-24T23:21:42.063000Z+0000"
    assert record["payloadlen"] == len(payload)
    [read] = read_feed(write(tmp_path, [line]))
    assert read == FeedLine(1, MS, "mining/экибастуз/rig-1", payload)


def archive_line_as_json_writes_it(received_ms: int, topic: str, payload: bytes, limit: int) -> str:
    """The archive line's definition: json.dumps of its members, which the fast writer must
    match byte for byte (archives written before it are read and compared as they are)."""
    tst = datetime.fromtimestamp(received_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    record: dict[str, object] = {
        "tst": f"{tst}.{received_ms % 1000:03d}000Z+0000",
        "topic": feed.cap_topic(topic),
        "payloadlen": len(payload),
    }
    key, kept = (
        ("payload_cut", payload[: feed.CUT_KEPT]) if len(payload) > limit else ("payload", payload)
    )
    try:
        record[key] = kept.decode("utf-8") if kept else None
    except UnicodeDecodeError:
        record[f"{key}_b64"] = base64.b64encode(kept).decode("ascii")
    if len(payload) > limit:
        record["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=500)
@given(
    received_ms=st.integers(0, 2**42),
    topic=st.text(min_size=1, max_size=400),
    payload=st.one_of(st.binary(max_size=80), st.text(max_size=80).map(str.encode)),
    limit=st.sampled_from([0, 8, 1024]),
)
def test_archive_lines_are_json_dumps_of_their_members(
    received_ms: int, topic: str, payload: bytes, limit: int
) -> None:
    expected = archive_line_as_json_writes_it(received_ms, topic, payload, limit)
    assert format_feed_line(received_ms, topic, payload, limit) == expected


def test_a_replayed_line_routes_like_the_live_message(tmp_path: Path) -> None:
    meter = Meter("pow1", "tele/pow1/SENSOR", "tasmota")
    [line] = read_feed(write(tmp_path, [percent_capital_j(SENSOR)]))
    assert isinstance(line, FeedLine)
    [reading] = Router([meter], ALMATY).route(line.topic, line.payload, line.received_ms)
    assert reading == Reading(
        "pow1", utc_ms(2026, 11, 24, 23, 21, 42), MS, energy_mj=3_542_400_000, power_mw=145_000
    )


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 300), TEXT, st.lists(st.integers(0, 255), max_size=3)
)
TSTS = st.sampled_from(
    ["2026-11-25T04:21:42.063128Z+0500", "2026-11-25T04:21:42Z", "1999-01-01T00:00:00Z", "x", ""]
)


@settings(max_examples=400, deadline=None)
@given(
    record=st.fixed_dictionaries(
        {},
        optional={
            "tst": st.one_of(TSTS, VALUES),
            "topic": st.one_of(st.sampled_from(["t/rig-1", ""]), VALUES),
            "payload": st.one_of(TEXT, VALUES, st.dictionaries(TEXT, st.integers(), max_size=2)),
            "payloadlen": st.one_of(st.integers(0, 40), VALUES),
            "qos": VALUES,
            "retain": VALUES,
            "mid": VALUES,
            "payload_b64": st.sampled_from(["aGk=", "!"]),
            "properties": st.just({}),
        },
    )
)
def test_the_compiled_reading_of_a_line_is_the_reading_of_any_line(record: dict) -> None:
    """The fast path for plain `%j` lines gives what the general reader gives, or steps aside."""
    raw = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogateescape")
    latest = utc_ms(2027, 1, 1)
    assert feed._parse(7, raw, latest) == feed._parse_any(7, raw, latest)
