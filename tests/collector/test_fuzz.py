"""Arbitrary bytes and arbitrary JSON at every decoder, through the router, and arbitrary lines
at the feed reader: nothing escapes, nothing takes long, and what comes out is only ever
readings, rejections and status changes (or feed lines and feed errors).

No message may end as `internal` either: that reason is the router's last resort, so one here
is a decoder failing in a way it should have named.
"""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.feed import FeedError, FeedLine, format_feed_line, read_feed
from collector.router import Outcome, Router, StatusChange
from levy.core.model import Measure, Reading, Rejection, RejectReason
from tests.collector.support import BERLIN, RECEIVED, Meter, utc_ms

FLEET = (
    Meter("rig", "mining/site/rig", "native"),
    Meter("rig-p", "mining/site/rig-p", "native", measure=Measure.POWER),
    Meter("pow", "tele/pow/SENSOR", "tasmota"),
    Meter("pow-2", "tele/pow/SENSOR", "tasmota", channel=2, measure=Measure.POWER),
    Meter("relay", "shelly-1", "shelly"),
    Meter("relay-p", "shelly-1", "shelly", component="switch:1", measure=Measure.POWER),
    Meter("em", "shelly-3em", "shelly", component="em:0"),
    Meter("emdata", "shelly-3em", "shelly", component="emdata:0"),
    Meter("em1", "shelly-em", "shelly", component="em1:0"),
    Meter("em1data", "shelly-em", "shelly", component="em1data:0"),
    Meter("plug", "zigbee2mqtt/plug", "zigbee2mqtt"),
    Meter("plug-p", "zigbee2mqtt/plug-p", "zigbee2mqtt", measure=Measure.POWER),
    Meter("sdm", "mbmd/sdm1-1", "mbmd"),
    Meter("sdm-p", "mbmd/sdm2-1", "mbmd", measure=Measure.POWER),
)
TOPICS = sorted(
    [*Router(FLEET, BERLIN).topics(), "shelly-1/status/sys", "tele/pow/STATE", "unknown/topic"]
)
NOW = utc_ms(2026, 11, 25)
FUZZ = settings(
    deadline=2000,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# JSON text, built as text so that numbers can be anything JSON allows (and a little more).
FIELDS = [
    "ts", "energy_kwh", "power_w", "fault", "Time", "ENERGY", "Total", "Power", "method",
    "params", "NotifyStatus", "NotifyFullStatus", "switch:0", "switch:1", "em:0", "emdata:0",
    "em1:0", "em1data:0", "aenergy", "total", "apower", "total_act_power", "total_act",
    "act_power", "total_act_energy", "errors", "energy", "power", "last_seen", "state",
]  # fmt: skip
numbers = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,25})?", fullmatch=True),
    st.sampled_from(["1E+1000000000000000000", "-1e-99999999999999999999", "NaN", "Infinity",
                     "-Infinity", "1e999999", "4102444800", "946684800", "1795562502.123"]),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)  # fmt: skip
times = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["2026-10-25T02:30:00", "2026-03-29T02:30:00", "2026-11-24T23:21:42Z",
                     "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "2026-13-01"]),
)  # fmt: skip
scalars = st.one_of(
    numbers,
    st.sampled_from(["true", "false", "null", '"online"', '"offline"', '"NotifyStatus"']),
    st.text(max_size=20).map(json.dumps),
    times.map(json.dumps),
)


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(items: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in items) + "}"


keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=10))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_array),
        st.lists(st.tuples(keys, inner), max_size=6).map(_object),
    ),
    max_leaves=30,
)
deep = st.tuples(st.integers(1, 3000), st.sampled_from(["[", '{"a":', '{"ENERGY":']), values).map(
    lambda d: d[1] * d[0] + d[2] + ("]" if d[1] == "[" else "}") * d[0]
)
documents = st.one_of(
    st.lists(st.tuples(keys, values), max_size=8).map(_object),
    values,
    deep,
    # the shapes the decoders go furthest into
    st.tuples(values, values, values).map(
        lambda v: (
            f'{{"method":"NotifyStatus","params":{{"ts":{v[0]},"switch:0":{v[1]},'
            f'"em:0":{v[2]},"emdata:0":{{"total_act":{v[2]}}}}}}}'
        )
    ),
    st.tuples(values, values, values).map(
        lambda v: f'{{"Time":{v[0]},"ENERGY":{{"Total":{v[1]},"Power":{v[2]}}}}}'
    ),
    st.tuples(values, values, values).map(
        lambda v: f'{{"aenergy":{{"total":{v[0]}}},"apower":{v[1]},"errors":{v[2]}}}'
    ),
    st.tuples(values, values, values, values).map(
        lambda v: f'{{"ts":{v[0]},"energy_kwh":{v[1]},"power_w":{v[2]},"fault":{v[3]}}}'
    ),
    st.tuples(values, values, values).map(
        lambda v: f'{{"last_seen":{v[0]},"energy":{v[1]},"power":{v[2]}}}'
    ),
)
payloads = st.one_of(
    st.binary(max_size=2000),
    documents.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"Online", b"Offline", b"true", b"false", b"connected", b"disconnected",
                     b"online", b"offline", b"NaN", b"+Inf", b"1_000", b" 12.5 ", b"1e999999999"]),
    st.binary(min_size=1, max_size=1).map(lambda b: b * 70_000),
)  # fmt: skip


def check(outcomes: list[Outcome]) -> None:
    assert isinstance(outcomes, list)
    for outcome in outcomes:
        assert isinstance(outcome, Reading | Rejection | StatusChange), outcome
        if isinstance(outcome, Rejection):
            assert outcome.reason is not RejectReason.INTERNAL, outcome
            assert isinstance(outcome.detail, str)
            outcome.detail.encode("utf-8")  # storable as text
        if isinstance(outcome, Reading):
            assert outcome.energy_mj is None or 0 <= outcome.energy_mj < 10**30
            assert outcome.power_mw is None or 0 <= outcome.power_mw < 10**30


@FUZZ
@given(topic=st.sampled_from(TOPICS), payload=payloads, received_ms=st.integers(0, 2**42))
def test_any_payload_on_any_topic(topic: str, payload: bytes, received_ms: int) -> None:
    check(Router(FLEET, BERLIN).route(topic, payload, received_ms))


@FUZZ
@given(messages=st.lists(st.tuples(st.sampled_from(TOPICS), payloads), max_size=12))
def test_sequences_on_one_router(messages: list[tuple[str, bytes]]) -> None:
    """Shelly keeps state between frames: a sequence must not break it either."""
    router = Router(FLEET, BERLIN)
    for topic, payload in messages:
        check(router.route(topic, payload, RECEIVED))


@FUZZ
@given(topic=st.text(max_size=2000), payload=st.binary(max_size=100))
def test_any_topic(topic: str, payload: bytes) -> None:
    check(Router(FLEET, BERLIN).route(topic, payload, RECEIVED))


# The feed reader

tsts = st.one_of(
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ+0000")),
    st.sampled_from(["9999-12-31T23:59:59.999999Z+0000", "2026-11-24T23:21:42.063128Z+0500",
                     "0001-01-01T00:00:00.000000Z+0100", "2026-11-24T23:21:42", "now"]),
    st.text(max_size=40),
)  # fmt: skip
field_values = st.one_of(values, st.integers(-(10**20), 10**20).map(str))
percent_j = st.builds(
    lambda tst, topic, length, payload: json.dumps(
        {"tst": tst, "topic": topic, "qos": 1, "payloadlen": length, "payload": payload}
    ),
    tsts,
    st.one_of(st.sampled_from(TOPICS), st.text(max_size=30)),
    st.integers(-5, 10**6),
    st.one_of(st.text(max_size=200), st.none(), st.lists(st.integers(-2, 300), max_size=20)),
)
percent_capital_j = st.builds(
    lambda tst, topic, length, payload: (
        f'{{"tst":{json.dumps(tst)},"topic":{json.dumps(topic)},"payloadlen":{length},'
        f'"payload":{payload}}}'
    ),
    tsts,
    st.sampled_from(TOPICS),
    field_values,
    documents,
)
archive_lines = st.builds(
    format_feed_line,
    st.integers(0, 2**42),
    st.one_of(st.sampled_from(TOPICS), st.text(min_size=1, max_size=3000)),
    payloads,
    st.sampled_from([1024, 4096, 65536]),
)
any_record = st.lists(st.tuples(st.sampled_from(
    ["tst", "topic", "payload", "payloadlen", "payload_b64", "payload_cut", "payload_cut_b64",
     "payload_sha256"]), field_values), max_size=8).map(_object)  # fmt: skip
lines = st.one_of(
    percent_j.map(str.encode),
    percent_capital_j.map(lambda text: text.encode("utf-8", "surrogatepass")),
    archive_lines.map(lambda text: text.encode("utf-8", "surrogateescape")),
    any_record.map(lambda text: text.encode("utf-8", "surrogatepass")),
    documents.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(feed=st.lists(lines, min_size=1, max_size=8))
def test_any_lines_at_the_feed_reader_and_on_through_the_router(
    folder: Path, feed: list[bytes]
) -> None:
    path = folder / "feed.jsonl"
    path.write_bytes(b"".join(line.replace(b"\n", b" ") + b"\n" for line in feed))
    results = list(read_feed(path, now_ms=NOW))
    assert len(results) <= len(feed)
    router = Router(FLEET, BERLIN)
    for result in results:
        assert isinstance(result, FeedLine | FeedError), result
        if isinstance(result, FeedLine):
            assert isinstance(result.topic, str)
            result.topic.encode("utf-8")  # storable as text
            assert isinstance(result.payload, bytes)
            check(router.route(result.topic, result.payload, result.received_ms))
