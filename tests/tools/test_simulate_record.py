"""Recorded mode, through the command's own `run`: a feed `read_feed` reads, the same bytes for
the same seed, a ground truth that the levy's replay of the feed agrees with, and options that
cannot be honoured refused with exit status 2."""

import argparse
import json
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from collector.feed import FeedLine, read_feed
from collector.router import Router
from levy.app.replay import ReplaySummary, replay
from levy.app.site import Site
from levy.config import SiteConfig, parse_config
from levy.core.model import Basis, Reading, Rejection
from levy.core.units import MJ_PER_KWH, datetime_to_ms
from levy.ledger.store import Ledger
from levy.tools.simulate.cli import add_arguments, run
from levy.tools.simulate.fleet import synthetic_meters
from tests.collector.support import ALMATY

START = "2026-10-01T00:00:00"
START_MS = datetime_to_ms(datetime(2026, 10, 1, tzinfo=ALMATY))


def simulate(*argv: str | Path, config: SiteConfig | None = None) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args([str(arg) for arg in argv]), config)


def record(tmp_path: Path, *options: str, name: str = "feed.jsonl") -> tuple[Path, dict[str, Any]]:
    tmp_path.mkdir(exist_ok=True)
    feed, truth = tmp_path / name, tmp_path / f"{name}.truth.json"
    assert simulate("--output", feed, "--truth", truth, "--start", START, *options) == 0
    return feed, json.loads(truth.read_text())


def lines(feed: Path) -> list[FeedLine]:
    read = list(read_feed(feed))
    assert all(isinstance(line, FeedLine) for line in read)
    return read  # type: ignore[return-value]


def site_config(tmp_path: Path, meters: list[dict[str, Any]]) -> SiteConfig:
    data = {
        "site": {"id": "sim"},
        "mqtt": {"topics": ["sim/#"]},
        "ledger": {"path": str(tmp_path / "sim.sqlite")},
        "meters": meters,
    }
    return parse_config(data, tmp_path / "site.toml")


def synthetic_config(tmp_path: Path, count: int) -> SiteConfig:
    specs = synthetic_meters(count, "mixed", Decimal("3.25"), "sim/site")
    return site_config(
        tmp_path,
        [{"id": s.id, "format": s.format, "topic": s.topic, "rated_kw": s.rated_kw} for s in specs],
    )


def replayed(config: SiteConfig, feed: Path) -> tuple[ReplaySummary, list[tuple[str, str, int]]]:
    """`levy-monitor replay` of the feed: its summary, and (meter, kind, mJ) over all time."""
    ledger = Ledger(config.ledger.path)
    try:
        summary = replay(Site.from_config(config), ledger, [feed])
        energy: Counter[tuple[str, str]] = Counter()
        for total in ledger.bucket_totals(0, 2**62):
            energy[(total.meter, (total.reason or Basis.METERED).value)] += total.energy_mj
        return summary, [(meter, kind, mj) for (meter, kind), mj in energy.items()]
    finally:
        ledger.close()


def test_a_recorded_feed_is_read_back_and_every_reading_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed, truth = record(
        tmp_path, "--meters", "5", "--format", "mixed", "--duration", "1h", "--interval", "60"
    )
    read = lines(feed)
    # 60 readings each, and mbmd sends Import and Power
    assert len(read) == 6 * 60 == sum(truth["messages"].values())
    assert read[0].received_ms == START_MS
    assert max(line.received_ms for line in read) < START_MS + 3_600_000
    router = Router(synthetic_config(tmp_path, 5).meters, ALMATY)
    outcomes = [
        o for line in read for o in router.route(line.topic, line.payload, line.received_ms)
    ]
    assert Counter(type(o) for o in outcomes) == Counter({Reading: 5 * 60})
    assert capsys.readouterr().err == (
        "simulate: 360 messages written (normal 360, fault 0, reset 0, spike 0, malformed 0);"
        " 0 gaps withheld 0 readings\n"
    )


def test_the_same_seed_writes_the_same_bytes_even_gzipped(tmp_path: Path) -> None:
    options = ("--meters", "4", "--format", "mixed", "--duration", "2h", "--malformed-rate", "0.1")
    first, _ = record(tmp_path / "a", *options, "--seed", "9", name="feed.jsonl.gz")
    second, _ = record(tmp_path / "b", *options, "--seed", "9", name="feed.jsonl.gz")
    third, _ = record(tmp_path / "c", *options, "--seed", "10", name="feed.jsonl.gz")
    assert first.read_bytes()[:2] == b"\x1f\x8b"
    assert first.read_bytes() == second.read_bytes() != third.read_bytes()
    assert len(lines(first)) == 4 * 720  # one message per 10 s reading (no mbmd among 4)


def test_receive_time_trails_the_payload_time_by_the_lag(tmp_path: Path) -> None:
    feed, _ = record(tmp_path, "--meters", "1", "--duration", "60", "--receive-lag-ms", "1500")
    for line in lines(feed):
        payload_ms = int(Decimal(json.loads(line.payload)["ts"]) * 1000)
        assert line.received_ms == payload_ms + 1500


def test_replaying_a_clean_feed_meters_exactly_what_the_rigs_consumed(tmp_path: Path) -> None:
    feed, truth = record(tmp_path, "--meters", "5", "--format", "mixed", "--duration", "6h")
    config = synthetic_config(tmp_path, 5)
    energy = {(m, kind): mj for m, kind, mj in replayed(config, feed)[1]}
    for meter in truth["meters"]:
        consumed_mj = Decimal(meter["consumed_kwh"]) * MJ_PER_KWH
        assert energy[(meter["meter"], "metered")] == consumed_mj, meter["format"]


def test_replaying_a_faulty_feed_shows_every_fault_kind(tmp_path: Path) -> None:
    feed, truth = record(
        tmp_path,
        *("--meters", "5", "--format", "mixed", "--duration", "12h", "--seed", "4"),
        *("--gap-rate", "0.001", "--fault-rate", "0.005", "--reset-rate", "0.002"),
        *("--spike-rate", "0.002", "--malformed-rate", "0.01"),
    )
    events = truth["totals"]["events"]
    assert all(events[kind] > 0 for kind in events)
    config = synthetic_config(tmp_path, 5)
    summary, energy = replayed(config, feed)
    kinds = {kind for _, kind, _ in energy}
    assert sum(summary.tally.rejected.values()) == events["malformed"]
    assert kinds >= {"metered", "no_data", "meter_fault", "register_decrease", "implausible"}


def test_a_configured_fleet_uses_its_meters_zone_and_devices(tmp_path: Path) -> None:
    config = site_config(
        tmp_path,
        [
            {
                "id": "t1",
                "format": "tasmota",
                "topic": "sim/tele/pow/SENSOR",
                "rated_kw": 2,
                "channel": 1,
            },
            {
                "id": "t2",
                "format": "tasmota",
                "topic": "sim/tele/pow/SENSOR",
                "rated_kw": 2,
                "channel": 2,
                "measure": "power",
            },
            {
                "id": "em",
                "format": "shelly",
                "topic": "sim/pro3em",
                "component": "em:0",
                "rated_kw": 9,
            },
            {
                "id": "emdata",
                "format": "shelly",
                "topic": "sim/pro3em",
                "component": "emdata:0",
                "rated_kw": 9,
            },
        ],
    )
    feed = tmp_path / "feed.jsonl"
    argv = ("--output", feed, "--start", START, "--duration", "10m", "--fault-rate", "0.2")
    assert simulate(*argv, config=config) == 0
    router = Router(config.meters, config.zone)
    outcomes = [o for line in lines(feed) for o in router.route(line.topic, line.payload, 0)]
    assert not [o for o in outcomes if isinstance(o, Rejection)]
    readings = Counter(o.meter for o in outcomes if isinstance(o, Reading))
    assert readings == {"t1": 60, "t2": 60, "em": 60, "emdata": 60}
    assert any(o.fault for o in outcomes if isinstance(o, Reading) and o.meter == "em")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "{tmp}/f.jsonl"], "--output needs --duration"),
        (["--output", "{tmp}/f.jsonl", "--duration", "60", "--host", "h"], "--host: only for live"),
        (["--duration", "60", "--start", START], "--start: only for a recorded feed"),
        (
            ["--output", "{tmp}/f.jsonl", "--duration", "60", "--interval", "0.5"],
            "at least 1 second",
        ),
        (
            ["--output", "{tmp}/f.jsonl", "--duration", "9", "--faults-on", "rig-9"],
            "no meter rig-9",
        ),
        (
            [
                "--output",
                "{tmp}/f.jsonl",
                "--duration",
                "9",
                "--gap-rate",
                "0.7",
                "--spike-rate",
                "0.7",
            ],
            "add up to more than 1",
        ),
        (["--output", "{tmp}/no/such/dir/f.jsonl", "--duration", "9"], "cannot write"),
        (
            ["--output", "{tmp}/f.jsonl", "--duration", "9", "--timezone", "Mars/Olympus"],
            "unknown time zone",
        ),
        (
            ["--output", "{tmp}/f.jsonl", "--duration", "9", "--start", "yesterday"],
            "not an ISO 8601",
        ),
    ],
)
def test_options_that_cannot_be_honoured_exit_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert simulate(*(arg.format(tmp=tmp_path) for arg in argv)) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("levy-monitor: ") and err.count("\n") == 1


def test_fleet_options_are_refused_beside_a_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = synthetic_config(tmp_path, 2)
    argv = ("--output", tmp_path / "f.jsonl", "--duration", "60", "--meters", "3")
    assert simulate(*argv, config=config) == 2
    assert "--meters: only for a fleet without a configuration" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["--interval", "soon"], ["--gap-rate", "2"], ["--rated-kw", "1.0005"], ["--meters", "0"]],
)
def test_bad_values_are_argparse_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        simulate(*argv)
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("options", "at_least_s", "messages"),
    [
        # 2 simulated hours a second: the last of 360 readings is due at 3590 s, 0.4986 s in
        (("--duration", "1h", "--speed", "7200"), 0.45, 360),
        (("--duration", "200", "--rate", "40"), 0.45, 20),  # 1/40 s apart
    ],
    ids=["speed", "rate"],
)
def test_speed_and_rate_pace_a_recorded_feed(
    tmp_path: Path, options: tuple[str, ...], at_least_s: float, messages: int
) -> None:
    started = time.monotonic()
    feed, _ = record(tmp_path, "--meters", "1", *options)
    assert time.monotonic() - started >= at_least_s
    assert len(lines(feed)) == messages
