"""One message is only ever its own problem (DESIGN.md rule 1): the payloads and feed lines that
once stopped the daemon or replay, and the bounds that keep bad input cheap."""

import json
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import pytest

from collector.decoders.common import MAX_TOPIC_BYTES, load_object
from collector.feed import (
    CutPayload,
    FeedError,
    FeedLine,
    cap_topic,
    format_feed_line,
    read_feed,
)
from collector.formats import registry
from collector.formats.registry import BaseFormat
from collector.formats.routing import MeterBinding, RouterBuilder, each, targets
from collector.router import Outcome, Router, StatusChange
from levy.cli import main
from levy.core.model import Availability, Measure, Reading, Rejection, RejectReason
from tests.collector.support import ALMATY, RECEIVED, Meter, router, utc_ms

FLEET = (
    Meter("rig", "mining/site/rig", "native"),
    Meter("pow", "tele/pow/SENSOR", "tasmota"),
    Meter("relay", "shelly-1", "shelly"),
    Meter("em", "shelly-3em", "shelly", component="em:0"),
    Meter("emdata", "shelly-3em", "shelly", component="emdata:0"),
    Meter("plug", "zigbee2mqtt/plug", "zigbee2mqtt"),
    Meter("sdm", "mbmd/sdm1-1", "mbmd"),
    Meter("sdm-p", "mbmd/sdm2-1", "mbmd", measure=Measure.POWER),
)
JSON_TOPICS = {
    "mining/site/rig": ["rig"],
    "tele/pow/SENSOR": ["pow"],
    "shelly-1/status/switch:0": ["relay"],
    "shelly-1/events/rpc": ["relay"],
    "shelly-3em/status/em:0": ["em"],
    "shelly-3em/status/emdata:0": ["emdata"],
    "shelly-3em/events/rpc": ["em", "emdata"],
    "zigbee2mqtt/plug": ["plug"],
    "zigbee2mqtt/plug/availability": ["plug"],
}
EVERY_TOPIC = {
    **JSON_TOPICS,
    "tele/pow/LWT": ["pow"],
    "shelly-1/online": ["relay"],
    "shelly-3em/online": ["em", "emdata"],
    "mbmd/sdm1-1/Import": ["sdm"],
    "mbmd/sdm1-1/Power": [],  # its meter bills on Import: this topic concerns no meter
    "mbmd/sdm2-1/Import": [],
    "mbmd/sdm2-1/Power": ["sdm-p"],
    "mbmd/status": ["sdm", "sdm-p"],
}
HUGE = "1E+1000000000000000000"
"""Beyond Decimal's exponent range: building a Decimal of it raises InvalidOperation."""
TST = "2026-11-24T23:21:42.063128Z+0000"
NOW = utc_ms(2026, 11, 25)


def test_the_fleet_claims_every_topic_listed() -> None:
    assert router(*FLEET).topics() == sorted(EVERY_TOPIC)


@pytest.mark.parametrize("topic", sorted(JSON_TOPICS))
def test_a_number_beyond_any_range_in_an_ignored_field_breaks_nothing(topic: str) -> None:
    outcomes = router(*FLEET).route(topic, f'{{"energy_kwh":1,"note":{HUGE}}}'.encode(), RECEIVED)
    assert all(isinstance(outcome, Reading | Rejection) for outcome in outcomes)
    assert not any(o.reason is RejectReason.INTERNAL for o in outcomes if isinstance(o, Rejection))


def test_the_native_poison_is_a_reading_and_a_huge_value_is_non_finite() -> None:
    route = router(*FLEET).route
    poison = f'{{"energy_kwh": 1, "note": {HUGE}}}'.encode()
    assert route("mining/site/rig", poison, RECEIVED) == [
        Reading("rig", RECEIVED, RECEIVED, energy_mj=3_600_000_000)
    ]
    for value in (HUGE, f"-{HUGE}", "1E-3000000000000000000"):
        [rejection] = route("mining/site/rig", f'{{"energy_kwh": {value}}}'.encode(), RECEIVED)
        assert rejection == Rejection(
            RejectReason.NON_FINITE, "energy_kwh is beyond any number's range", "rig"
        )
    # tiny but within Decimal's range: below the register's resolution, so zero
    [zero] = route("mining/site/rig", b'{"energy_kwh": 1E-1000000000000000000}', RECEIVED)
    assert zero == Reading("rig", RECEIVED, RECEIVED, energy_mj=0)
    [late] = route("mining/site/rig", f'{{"energy_kwh": 1, "ts": {HUGE}}}'.encode(), RECEIVED)
    assert late.reason is RejectReason.BAD_TIMESTAMP


def test_values_in_every_format_beyond_any_range_are_refused_where_read() -> None:
    route = router(*FLEET).route
    cases = {
        "tele/pow/SENSOR": f'{{"ENERGY":{{"Total":{HUGE}}}}}',
        "shelly-1/status/switch:0": f'{{"aenergy":{{"total":{HUGE}}}}}',
        "shelly-3em/status/em:0": f'{{"total_act_power":{HUGE}}}',
        "zigbee2mqtt/plug": f'{{"energy":{HUGE}}}',
    }
    for topic, payload in cases.items():
        [rejection] = route(topic, payload.encode(), RECEIVED)
        assert isinstance(rejection, Rejection)
        assert rejection.reason is RejectReason.NON_FINITE, (topic, rejection)
    frame = f'{{"method":"NotifyStatus","params":{{"ts":{HUGE},"switch:0":{{"apower":1}}}}}}'
    [rejection] = route("shelly-1/events/rpc", frame.encode(), RECEIVED)
    assert rejection == Rejection(
        RejectReason.BAD_TIMESTAMP, "params.ts is beyond any number's range", "relay"
    )


@pytest.mark.parametrize("method", [b'{"x": 1}', b"[1]", b"1", b"null", b"true"])
def test_a_shelly_frame_whose_method_is_not_text_is_no_notification(method: bytes) -> None:
    assert router(*FLEET).route("shelly-1/events/rpc", b'{"method": ' + method + b"}", 0) == []


def test_nesting_deeper_than_64_is_refused_unparsed() -> None:
    route = router(*FLEET).route
    deep = b'{"energy_kwh": 1, "x": ' + b"[" * 63 + b"]" * 63 + b"}"  # 64 deep in all
    assert isinstance(route("mining/site/rig", deep, RECEIVED)[0], Reading)
    deeper = b'{"energy_kwh": 1, "x": ' + b"[" * 64 + b"]" * 64 + b"}"
    assert route("mining/site/rig", deeper, RECEIVED) == [
        Rejection(RejectReason.BAD_JSON, "JSON nested deeper than 64", "rig")
    ]
    in_strings = b'{"energy_kwh": 1, "x": "' + b"[" * 1000 + b'"}'
    assert isinstance(route("mining/site/rig", in_strings, RECEIVED)[0], Reading)
    shelly = b'{"method":"NotifyStatus","params":{"switch:0":' + b'{"a":' * 900 + b"1"
    shelly += b"}" * 900 + b"}}"
    [rejection] = route("shelly-1/events/rpc", shelly, RECEIVED)
    assert rejection == Rejection(RejectReason.BAD_JSON, "JSON nested deeper than 64", "relay")


@pytest.mark.parametrize("topic", sorted(EVERY_TOPIC))
def test_every_topic_refuses_an_oversized_payload_before_reading_it(topic: str) -> None:
    small = Router(FLEET, ALMATY, max_payload=1024)
    outcomes = small.route(topic, b"1" * 1025, RECEIVED)
    assert outcomes == [
        Rejection(RejectReason.OVERSIZED, "payload of 1025 bytes exceeds 1024", meter)
        for meter in EVERY_TOPIC[topic]
    ]


def test_a_topic_longer_than_the_cap_is_no_meters_even_below_a_device() -> None:
    route = router(*FLEET).route
    below = "shelly-1/status/" + "x" * MAX_TOPIC_BYTES
    [rejection] = route(below, b"{}", RECEIVED)
    assert rejection.reason is RejectReason.UNKNOWN_METER
    assert route("shelly-1/status/sys", b"{}", RECEIVED) == []
    with pytest.raises(ValueError, match="longer than 1024 bytes"):
        router(Meter("long", "t/" + "é" * 512, "native"))


def broken(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> Router:
    """The fleet's router, and meters `a` and `b` on topic `t` in a format whose decoder raises
    `error` (a format of its own: the shipped decoders are compiled, and call each other
    directly, not through a module attribute a test could replace)."""

    def sample(*_args: object) -> None:
        raise error

    class Broken(BaseFormat):
        name = "broken"

        def bind(self, builder: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]):
            handler = partial(
                each, lambda payload, _ms: load_object(payload, builder.limit), sample
            )
            for topic, group in devices.items():
                builder.add_targets(topic, handler, targets(group))

    monkeypatch.setitem(registry._FORMATS, Broken.name, Broken())
    return router(Meter("a", "t", "broken"), Meter("b", "t", "broken"), *FLEET)


def test_an_exception_in_a_decoder_is_an_internal_rejection_per_meter(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failing = broken(monkeypatch, ZeroDivisionError("division by zero"))
    expected = [
        Rejection(RejectReason.INTERNAL, "ZeroDivisionError: division by zero", meter)
        for meter in ("a", "b")
    ]
    assert failing.route("t", b'{"energy_kwh": 1}', RECEIVED) == expected
    assert failing.route("t", b'{"energy_kwh": 2}', RECEIVED) == expected
    assert len([r for r in caplog.records if r.exc_info]) == 1  # the first of its kind
    # the other meters are untouched
    [reading] = failing.route("tele/pow/SENSOR", b'{"ENERGY":{"Total":1}}', RECEIVED)
    assert isinstance(reading, Reading)


@pytest.mark.parametrize("error", [MemoryError(), KeyboardInterrupt(), SystemExit(1)])
def test_what_is_no_ordinary_exception_is_not_swallowed(
    monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    with pytest.raises(type(error)):
        broken(monkeypatch, error).route("t", b'{"energy_kwh": 1}', RECEIVED)


def test_availability_payloads_still_work() -> None:
    route = router(*FLEET).route
    assert route("tele/pow/LWT", b"Offline", 0) == [StatusChange("pow", Availability.OFFLINE)]
    assert route("mbmd/status", b"connected", 0) == [
        StatusChange("sdm", Availability.ONLINE),
        StatusChange("sdm-p", Availability.ONLINE),
    ]


def test_a_shelly_device_remembers_only_what_it_bills_on() -> None:
    shelly = router(*FLEET)
    junk = ",".join(f'"k{i}":{{"v":[{i}]}}' for i in range(500))
    for ts in range(1_795_000_000, 1_795_000_100):
        frame = (
            f'{{"method":"NotifyStatus","params":{{"ts":{ts},'
            f'"switch:0":{{"aenergy":{{"total":{ts - 1_795_000_000},"junk{ts}":{{{junk}}}}},'
            f'"junk{ts}":{{{junk}}}}}}}}}'
        )
        [reading] = shelly.route("shelly-1/events/rpc", frame.encode(), RECEIVED)
        assert isinstance(reading, Reading)
    status = shelly._routes["shelly-1/events/rpc"][1].__self__._status  # type: ignore[attr-defined]
    assert status == {"switch:0": {"aenergy": {"total": 99}}}


# The feed reader


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def percent_capital_j(payload: bytes, tst: str = TST) -> bytes:
    head = f'{{"tst":"{tst}","topic":"mining/site/rig","qos":0,"retain":0,"payloadlen":9,'
    return head.encode() + b'"payload":' + payload + b"}"


GOOD = percent_capital_j(b'{"energy_kwh":1}')


def test_a_percent_capital_j_line_nested_600_deep_is_one_broken_line(tmp_path: Path) -> None:
    deep = percent_capital_j(b'{"x":' * 600 + b"1" + b"}" * 600)
    results = list(read_feed(write(tmp_path, [deep, GOOD]), now_ms=NOW))
    assert results[0] == FeedError(1, "JSON nested deeper than 64")
    assert isinstance(results[1], FeedLine)


@pytest.mark.parametrize(
    "tst",
    [
        "9999-12-31T23:59:59.999999Z+0000",
        "2027-11-26T00:00:00.001000Z+0000",  # more than 366 days after the clock
        "1999-12-31T23:59:59.999999Z+0000",
        "1970-01-01T00:00:00.000000Z+0000",
        "0001-01-01T00:00:00.000000Z+0100",
    ],
)
def test_a_tst_outside_the_sane_window_is_a_broken_line(tmp_path: Path, tst: str) -> None:
    results = list(read_feed(write(tmp_path, [percent_capital_j(b"1", tst), GOOD]), now_ms=NOW))
    assert isinstance(results[0], FeedError), results[0]
    assert results[0].line_no == 1
    assert isinstance(results[1], FeedLine)


def test_the_window_follows_the_clock_given(tmp_path: Path) -> None:
    line = percent_capital_j(b"1", "2027-11-24T00:00:00.000000Z+0000")
    [early] = read_feed(write(tmp_path, [line]), now_ms=NOW)
    assert isinstance(early, FeedLine)
    [later] = read_feed(write(tmp_path, [line]), now_ms=utc_ms(2026, 11, 20))
    assert isinstance(later, FeedError)
    assert "outside 2000-01-01 .. 2027-11-21T00:00Z" in later.problem


def test_numbers_beyond_any_range_in_a_percent_capital_j_payload_are_kept_as_written(
    tmp_path: Path,
) -> None:
    payload = f'{{"energy_kwh":1,"note":{HUGE},"big":{"9" * 5000}.5,"n":NaN}}'.encode()
    [line] = read_feed(write(tmp_path, [percent_capital_j(payload)]), now_ms=NOW)
    assert isinstance(line, FeedLine)
    assert line.payload == payload


@pytest.mark.parametrize(
    "line",
    [
        b'{"tst":"' + TST.encode() + b'","topic":"t\\ud800","payload":"x"}',
        b'{"tst":"' + TST.encode() + b'","topic":1.5,"payload":"x"}',
        b'{"tst":1.5,"topic":"t","payload":"x"}',
        b'{"tst":"' + TST.encode() + b'","topic":"t","payload_b64":"not base64!"}',
        b'{"tst":"' + TST.encode() + b'","topic":"t","payloadlen":5,"payload_cut":"x"}',
        b'{"tst":"' + TST.encode() + b'","topic":"t","payloadlen":99999999999999999999,'
        b'"payload_cut":"x","payload_sha256":"' + b"0" * 64 + b'"}',
        b'{"tst":"' + TST.encode() + b'","topic":"t","payloadlen":5000,"payload_cut":"x"}',
        b"\xff\xfe" * 100,
        b"[" * 100000,
        b'{"a":' * 100000,
    ],
)
def test_broken_lines_are_feed_errors(tmp_path: Path, line: bytes) -> None:
    results = list(read_feed(write(tmp_path, [line, GOOD]), now_ms=NOW))
    assert isinstance(results[0], FeedError), results[0]
    assert isinstance(results[1], FeedLine)


# The archive's line format, and what its lines replay to


@pytest.mark.parametrize(
    "payload",
    [b"\xff\x00\x80binary", bytes(range(256)) * 4, b"\x00", "Экибастуз".encode(), b""],
)
def test_payloads_round_trip_and_binary_ones_are_base64(tmp_path: Path, payload: bytes) -> None:
    line = format_feed_line(RECEIVED, "mining/site/rig", payload)
    record = json.loads(line)
    binary = payload != b"" and not _is_utf8(payload)
    assert ("payload_b64" in record) is binary
    assert ("payload" in record) is not binary
    [read] = read_feed(write(tmp_path, [line.encode()]), now_ms=NOW)
    assert read == FeedLine(1, RECEIVED, "mining/site/rig", payload)
    assert type(read.payload) is bytes


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_long_topic_is_cut_with_a_mark_no_topic_has() -> None:
    for unit in ("x", "é", "€", "😀"):
        topic = "shelly-1/" + unit * 60_000
        capped = cap_topic(topic)
        size = len(topic.encode())
        assert capped.endswith(f"#cut:{size}")
        head = capped.removesuffix(f"#cut:{size}")
        assert topic.startswith(head)
        assert MAX_TOPIC_BYTES - 3 <= len(head.encode()) <= MAX_TOPIC_BYTES
        assert len(capped.encode()) > MAX_TOPIC_BYTES
    assert cap_topic("a" * MAX_TOPIC_BYTES) == "a" * MAX_TOPIC_BYTES


def test_an_oversized_payload_is_archived_cut_with_its_length_and_hash(tmp_path: Path) -> None:
    payload = b'{"energy_kwh": 1, "pad": "' + b"x" * 100_000 + b'"}'
    line = format_feed_line(RECEIVED, "mining/site/rig", payload)
    record = json.loads(line)
    assert record["payload_cut"] == payload[:1024].decode()
    assert record["payloadlen"] == len(payload)
    assert len(record["payload_sha256"]) == 64
    assert "payload" not in record
    assert len(line) < 1300
    [read] = read_feed(write(tmp_path, [line.encode()]), now_ms=NOW)
    assert isinstance(read, FeedLine)
    assert isinstance(read.payload, CutPayload)
    assert len(read.payload) == len(payload)
    assert read.payload[:2000] == payload[:1024]
    binary = format_feed_line(RECEIVED, "t", b"\xff" * 70_000)
    assert "payload_cut_b64" in json.loads(binary)
    [read] = read_feed(write(tmp_path, [binary.encode()]), now_ms=NOW)
    assert isinstance(read, FeedLine)
    assert (len(read.payload), read.payload[:5000]) == (70_000, b"\xff" * 1024)


LIVE = [
    ("mining/site/rig", b'{"energy_kwh": 1}'),
    ("mining/site/rig", b'{"energy_kwh": 1, "pad": "' + b"x" * 70_000 + b'"}'),
    ("tele/pow/LWT", b"Offline" * 10_000),
    ("mbmd/sdm1-1/Import", b"1" * 65_537),
    ("mbmd/sdm1-1/Import", b"\xff" * 100),
    ("shelly-1/events/rpc", b"\xff" * 70_000),
    ("shelly-1/status/" + "x" * 60_000, b"{}"),
    ("mining/site/rig/" + "é" * 30_000, b'{"energy_kwh": 1}'),
    ("mining/site/rig", b'{"energy_kwh": 1, "note": ' + HUGE.encode() + b"}"),
    ("zigbee2mqtt/plug/availability", b"\x00" * 65_536),
    ("zigbee2mqtt/plug/availability", b"\x00" * 65_537),
]


@pytest.mark.parametrize("max_payload", [1024, 4096, 65536])
def test_an_archived_message_replays_as_it_was_routed_live(
    tmp_path: Path, max_payload: int
) -> None:
    """Whatever the configured limit (at most the archive's), a replay of the archive refuses
    what live refused, for the same reason and with the same detail."""
    lines = [format_feed_line(RECEIVED, topic, payload).encode() for topic, payload in LIVE]
    read = list(read_feed(write(tmp_path, lines), now_ms=NOW))
    live: list[list[Outcome]] = []
    replayed: list[list[Outcome]] = []
    for (topic, payload), line in zip(LIVE, read, strict=True):
        assert isinstance(line, FeedLine)
        live.append(Router(FLEET, ALMATY, max_payload).route(topic, payload, RECEIVED))
        replayed.append(Router(FLEET, ALMATY, max_payload).route(line.topic, line.payload, 0))
    assert _without_times(replayed) == _without_times(live)
    assert all(live)


def _without_times(outcomes: list[list[Outcome]]) -> list[list[object]]:
    return [[o.reason if isinstance(o, Rejection) else type(o) for o in each] for each in outcomes]


# Replay, end to end

SITE = """
[site]
id = "poison"

[ledger]
path = "poison.sqlite"
accounting_start = 2026-11-24T00:00:00Z

[[meters]]
id = "rig"
topic = "mining/site/rig"
format = "native"
rated_kw = "3.6"

[[meters]]
id = "relay"
topic = "shelly-1"
format = "shelly"
rated_kw = "3.6"
"""


def test_replay_of_every_poison_finishes_and_bills_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def at(minute: int, topic: str, payload: bytes) -> bytes:
        return format_feed_line(utc_ms(2026, 11, 24, 1, minute), topic, payload).encode()

    lines = [
        at(0, "mining/site/rig", b'{"energy_kwh": 100}'),
        at(1, "mining/site/rig", f'{{"energy_kwh": 100.01, "note": {HUGE}}}'.encode()),
        at(2, "shelly-1/events/rpc", b'{"method": {"x": 1}}'),
        percent_capital_j(b'{"x":' * 600 + b"1" + b"}" * 600),
        percent_capital_j(b'{"energy_kwh":1}', "9999-12-31T23:59:59.999999Z+0000"),
        at(3, "mining/site/rig", b"\xff" * 100_000),
        at(4, "mining/site/" + "x" * 70_000, b"{}"),
        at(5, "mining/site/rig", b'{"energy_kwh": 100.02}'),
    ]
    (tmp_path / "site.toml").write_text(SITE)
    feed = write(tmp_path, lines)
    assert main(["replay", "-c", str(tmp_path / "site.toml"), "-i", str(feed)]) == 0
    out = capsys.readouterr().out
    assert "lines read        8 = accepted 3 + rejected 2 + ignored 1 + malformed 2" in out
    assert "ignored           1 no reading" in out
    assert "rejected          1 oversized" in out
    assert "rejected          1 unknown_meter" in out
    assert "accounted to      2026-11-24T06:05:00+05:00" in out
