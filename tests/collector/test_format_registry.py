"""A device format added in a test module only, through the registry: it decodes, routes,
validates, is checked for duplicates and subscriptions, and simulates, with no other file
touched. `csvline` is a toy: `<unix seconds>,<kWh>` on the meter's exact topic, `ERR` in place
of the kWh when the meter reports a fault, availability `Online`/`Offline` on `<topic>/LWT`."""

import argparse
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from collector import formats
from collector.decoders.common import DecodeError, Sample, energy_from_kwh, unix_ms, will
from collector.feed import FeedLine, read_feed
from collector.formats import routing
from collector.formats.frames import Channel, Frame
from collector.formats.registry import BaseFormat
from collector.formats.routing import MeterBinding, MeterTarget, RouterBuilder
from collector.message import Message
from collector.router import Router, StatusChange
from levy.config import ConfigError, load_config
from levy.core.model import Availability, Measure, Reading, Rejection, RejectReason
from levy.tools.simulate.cli import add_arguments, run
from levy.tools.simulate.fleet import Event, FaultPlan, Fleet, synthetic_meters
from tests.collector.support import Meter

ZONE = ZoneInfo("Asia/Almaty")
TOPIC = "lab/csv-1"
T0_MS = 1_790_000_000_000
_WILL = {b"Online": Availability.ONLINE, b"Offline": Availability.OFFLINE}


def decode(payload: bytes) -> Sample:
    seconds, comma, kwh = payload.decode("ascii", "replace").partition(",")
    if not comma:
        raise DecodeError(RejectReason.WRONG_TYPE, "not <unix seconds>,<kWh>")
    try:
        ts_ms = unix_ms(Decimal(seconds), "seconds")
        if kwh == "ERR":
            return Sample(ts_ms, fault=True)
        return Sample(ts_ms, energy_from_kwh(Decimal(kwh), "kWh"))
    except InvalidOperation:
        raise DecodeError(RejectReason.WRONG_TYPE, "not <unix seconds>,<kWh>") from None


class CsvLine(BaseFormat):
    name = "csvline"
    reports_faults = True

    def bind(self, router: RouterBuilder, devices: Mapping[str, Sequence[MeterBinding]]) -> None:
        def read(sample: Sample, _target: MeterTarget, _received_ms: int) -> Sample:
            return sample

        handler = partial(routing.each, lambda p, _r: decode(p), read)
        for topic, group in devices.items():
            router.add_targets(topic, handler, routing.targets(group))
            lwt = partial(routing.availability, lambda p: will(p, _WILL, "LWT"), routing.ids(group))
            router.add(f"{topic}/LWT", lwt, routing.ids(group))

    def check(self, key: str, value: object, known: Mapping[str, object]) -> str | None:
        if key == "measure" and value is Measure.POWER:
            return "a csvline meter reports energy only"
        return super().check(key, value, known)

    def encode(self, frame: Frame, zone: ZoneInfo) -> list[Message]:
        (channel,) = frame.channels
        kwh = "ERR" if frame.fault else format(channel.energy_kwh, "f")
        return [Message(frame.ts_ms, frame.topic, f"{frame.ts_ms // 1000},{kwh}".encode())]


@pytest.fixture(autouse=True)
def csvline() -> Iterator[None]:
    formats.register(CsvLine())
    try:
        yield
    finally:
        formats.unregister("csvline")


def spec(meter_id: str = "csv-1", topic: str = TOPIC) -> Meter:
    return Meter(meter_id, topic, "csvline")


def test_it_decodes_a_reading_and_a_fault() -> None:
    assert decode(b"1790000000,12.5") == Sample(T0_MS, 45_000_000_000)
    assert decode(b"1790000000,ERR") == Sample(T0_MS, fault=True)
    with pytest.raises(DecodeError):
        decode(b"garbage")


def test_it_routes_readings_faults_and_availability() -> None:
    router = Router([spec()], ZONE)
    assert router.route(TOPIC, b"1790000000,12.5", T0_MS + 5) == [
        Reading("csv-1", T0_MS, T0_MS + 5, energy_mj=45_000_000_000)
    ]
    assert router.route(TOPIC, b"1790000000,ERR", T0_MS) == [
        Reading("csv-1", T0_MS, T0_MS, fault=True)
    ]
    assert router.route(f"{TOPIC}/LWT", b"Offline", T0_MS) == [
        StatusChange("csv-1", Availability.OFFLINE)
    ]
    (refused,) = router.route(TOPIC, b"garbage", T0_MS)
    assert isinstance(refused, Rejection) and refused.reason is RejectReason.WRONG_TYPE
    assert router.topics() == [TOPIC, f"{TOPIC}/LWT"]


def test_after_teardown_it_is_unknown_again() -> None:
    formats.unregister("csvline")
    with pytest.raises(ValueError, match="unknown format 'csvline'"):
        Router([spec()], ZONE)
    formats.register(CsvLine())  # for the fixture's own teardown


def site(tmp_path: Path, meters: str, topics: str = '["lab/#"]') -> Path:
    path = tmp_path / "site.toml"
    text = f'[site]\nid = "lab"\n[mqtt]\ntopics = {topics}\n' + dedent(meters)
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


METER = """
[[meters]]
id = "{id}"
topic = "{topic}"
format = "{format}"
rated_kw = "3.5"
"""


def entry(meter_id: str = "csv-1", topic: str = TOPIC, fmt: str = "csvline", **more: str) -> str:
    extra = "".join(f'{key} = "{value}"\n' for key, value in more.items())
    return METER.format(id=meter_id, topic=topic, format=fmt) + extra


def test_the_configuration_takes_it(tmp_path: Path) -> None:
    (meter,) = load_config(site(tmp_path, entry())).meters
    assert (meter.format, meter.topic, meter.measure) == ("csvline", TOPIC, None)


def test_its_checks_and_the_common_ones_apply(tmp_path: Path) -> None:
    assert problems(site(tmp_path, entry(measure="power"))) == [
        "meters[0].measure: a csvline meter reports energy only"
    ]
    assert problems(site(tmp_path, entry(component="switch:0"))) == [
        "meters[0].component: only shelly meters have components"
    ]


def test_an_unknown_format_is_refused_with_its_key_path_and_the_known_names(
    tmp_path: Path,
) -> None:
    assert problems(site(tmp_path, entry(fmt="modbus"))) == [
        "meters[0].format: Input should be 'native', 'tasmota', 'shelly', 'zigbee2mqtt', "
        "'mbmd' or 'csvline'"
    ]


def test_duplicates_and_subscriptions_go_by_its_topics(tmp_path: Path) -> None:
    assert problems(site(tmp_path, entry() + entry("csv-2"))) == [
        f"meters[1].topic: {TOPIC!r} is already read by meter 'csv-1' (meters[0])"
    ]
    assert problems(site(tmp_path, entry(), topics='["other/#"]')) == [
        f"meters[0].topic: no mqtt.topics filter matches {TOPIC!r}"
    ]


def test_the_simulator_speaks_it_and_the_router_reads_it_back() -> None:
    meter = spec()
    router = Router([meter], ZONE)
    frames = [
        Frame("csvline", TOPIC, T0_MS, (Channel(meter, Decimal("12.5"), Decimal(3000)),)),
        Frame("csvline", TOPIC, T0_MS + 60_000, (Channel(meter, Decimal(0), Decimal(0)),), True),
    ]
    outcomes: list[object] = []
    for frame in frames:
        for message in formats.encode(frame, ZONE):
            outcomes.extend(router.route(message.topic, message.payload, T0_MS))
    assert outcomes == [
        Reading("csv-1", T0_MS, T0_MS, energy_mj=45_000_000_000),
        Reading("csv-1", T0_MS + 60_000, T0_MS, fault=True),
    ]


def test_the_simulator_knows_it_reports_faults_and_does_not_ship_it() -> None:
    assert formats.get("csvline").reports_faults
    assert "csvline" not in formats.BUILT_IN


def test_the_simulator_makes_a_fleet_of_it_that_routes_back_to_every_reading() -> None:
    meters = synthetic_meters(3, "csvline", Decimal("3.5"), "lab")
    assert [m.topic for m in meters] == [f"lab/csvline/rig-000{n}" for n in (1, 2, 3)]
    fleet = Fleet(meters, 0, FaultPlan(fault=0.5), 10_000)
    router = Router(meters, ZONE)
    outcomes = []
    for due_ms, device in fleet.schedule(T0_MS, T0_MS + 100_000):
        _, frame = device.tick(due_ms)
        assert frame is not None
        for message in formats.encode(frame, ZONE):
            outcomes.extend(router.route(message.topic, message.payload, message.received_ms))
    assert len(outcomes) == 30 and all(isinstance(o, Reading) for o in outcomes)
    faults = sum(rig.events[Event.FAULT] for rig in fleet.rigs)
    assert sum(isinstance(o, Reading) and o.fault for o in outcomes) == faults > 0


def test_simulate_records_a_feed_of_it_that_the_router_reads_back(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    feed = tmp_path / "csv.jsonl"
    argv = ["--format", "csvline", "--meters", "2", "--topic-prefix", "lab", "--output", str(feed)]
    argv += ["--start", "2026-10-01T00:00:00+05:00", "--duration", "60", "--interval", "10"]
    assert run(parser.parse_args(argv), None) == 0
    router = Router(synthetic_meters(2, "csvline", Decimal("3.25"), "lab"), ZONE)
    lines = [line for line in read_feed(feed) if isinstance(line, FeedLine)]
    outcomes = [
        o for line in lines for o in router.route(line.topic, line.payload, line.received_ms)
    ]
    assert len(lines) == 12 and len(outcomes) == 12
    assert all(isinstance(o, Reading) and o.energy_mj for o in outcomes)
