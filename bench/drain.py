"""Draining a queued backlog: the daemon against a bare paho client on the same broker and the
same backlog, in one run, with the usual hand-written bridges beside them.

    python -m bench.drain [--meters 10000] [--readings 12] [--out bench/out/drain]
        [--format native]

A Mosquitto and a VictoriaMetrics of the benchmark's own start on free ports. Each contender
gets a persistent session before the backlog is published, so every one finds the same
`meters x readings` QoS 1 messages queued when it connects. The daemon runs as systemd would run
it (`levy-monitor run`, a 10,000-meter inventory, the raw archive, the SQLite ledger, the export
into VictoriaMetrics every 10 s), and its drain is timed from its connection to the last message
committed and acknowledged (`levy_messages_total`, polled every 50 ms).

`--format` another of `simulate`'s formats (or `mixed`): the backlog is its synthetic fleet's
feed as `levy-monitor simulate` records it, and only the daemon and the bare client drain it
(the bridges read the native payload).
"""

import argparse
import json
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import nodered
from bench.backlog import TOPIC_PREFIX, backlog_start_ms, make_session, payloads, publish
from bench.fleet import NATIVE, SIMULATED_PREFIX, recorded, simulate_feed, write_fleet
from bench.running import RunningDaemon
from bench.table import Figure, ratio_figure, render
from collector import formats
from levy.core.units import ms_to_datetime
from levy.tools.simulate.fleet import MIXED
from tests.live.harness import Broker, free_port
from tests.tsdb.servers import VictoriaMetrics

TOKEN_ENV = "LEVY_BENCH_TOKEN"
DAEMON = "levy-monitor run"
NODE_RED = "node-red mqtt-in to influxdb-out"
TARGET = 0.8
"""The daemon's share of the bare client's drain to reach (issue 13)."""
SYNC_LIMIT = 5_000
"""The synchronous bridge writes one HTTP request per message: its rate is taken on this many."""


@dataclass(frozen=True)
class Drain:
    contender: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def peer(kind: str, port: int, client_id: str, expect: int, influx: str | None) -> Drain:
    argv = [sys.executable, "-m", "bench.peers", kind, "--port", str(port)]
    argv += ["--client-id", client_id, "--expect", str(expect)]
    if influx is not None:
        argv += ["--influx", influx]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=3600)
    result = json.loads(done.stdout)
    return Drain(kind, result["messages"], result["seconds"])


def nodered_peer(port: int, client_id: str, expect: int, influx: str) -> list[Drain]:
    """Node-RED's flow, or nothing, saying why, where it cannot be installed."""
    try:
        return [Drain(NODE_RED, expect, nodered.drain(port, client_id, expect, influx))]
    except nodered.Skipped as skipped:
        print(f"the Node-RED peer is skipped: {skipped}", file=sys.stderr, flush=True)
        return []


def subscription(fmt: str) -> str:
    return f"{TOPIC_PREFIX if fmt == NATIVE else SIMULATED_PREFIX}/#"


def daemon_site(
    out: Path, meters: int, port: int, health: int, influx: str, start_ms: int, fmt: str
) -> Path:
    """The accounting starts at the backlog's first reading: as after an outage of a site whose
    meters were reporting, each meter's first reading sets its baseline and the rest are metered
    (a start a day earlier would have the first reading deem the day, 24 hourly rows a meter)."""
    extra = (
        f'\n[mqtt]\nport = {port}\nclient_id = "bench-daemon"\ntopics = ["{subscription(fmt)}"]\n'
        f"\n[daemon]\nhealth_port = {health}\n"
        f'\n[influx]\nurl = "{influx}"\norg = "bench"\nbucket = "daemon"\n'
        f'token_env = "{TOKEN_ENV}"\n'
    )
    return write_fleet(out, meters, ms_to_datetime(start_ms).isoformat(), extra, fmt)


def backlog(
    config: Path, meters: int, readings: int, first_ms: int, fmt: str
) -> list[tuple[str, bytes]]:
    """The messages to queue: the native payloads, or the format's fleet as simulate records it
    from the same start (its messages' own times, where they carry one, are those)."""
    if fmt == NATIVE:
        return list(payloads(meters, readings, first_ms))
    feed = config.parent / "feed.jsonl"
    simulate_feed(config, feed, ms_to_datetime(first_ms).isoformat(), readings * 10)
    return [(topic, payload) for _, topic, payload in recorded(feed)]


def daemon(config: Path, health: int, expect: int, profile: Path | None) -> Drain:
    running = RunningDaemon(config, health, {TOKEN_ENV: "bench"})
    spy = None
    if profile is not None:
        spy_argv = ["py-spy", "record", "--format", "raw", "--threads", "-o", str(profile)]
        spy_argv += ["--subprocesses", "--pid", str(running.process.pid)]
        spy = subprocess.Popen(spy_argv, stdout=subprocess.DEVNULL)
    try:
        connected_at = running.wait_for("levy_mqtt_connected", 1)
        done_at = running.wait_for("levy_messages_total", expect)
        return Drain(DAEMON, expect, done_at - connected_at)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            spy.wait(timeout=60)
        running.stop()


def measure(
    meters: int,
    readings: int,
    out: Path,
    profile: Path | None = None,
    peers: bool = True,
    fmt: str = NATIVE,
) -> list[Figure]:
    out = out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    broker = Broker(out / "broker").start()
    database = VictoriaMetrics(out / "victoria").start()
    try:
        health = free_port()
        first_ms = backlog_start_ms(readings)
        site = out / "site"
        config = daemon_site(site, meters, broker.port, health, database.url, first_ms, fmt)
        contenders = ["bench-bare", "bench-daemon", "bench-sync", "bench-batch", "bench-nodered"]
        for client_id in contenders:
            make_session(broker.port, client_id, [subscription(fmt)])
        messages = backlog(config, meters, readings, first_ms, fmt)
        publish(broker.port, messages)
        total = len(messages)
        bare = peer("bare", broker.port, "bench-bare", total, None)
        results = [daemon(config, health, total, profile)]
        if peers and fmt == NATIVE:
            results += [
                peer("influx-batch", broker.port, "bench-batch", total, database.url),
                peer(
                    "influx-sync", broker.port, "bench-sync", min(SYNC_LIMIT, total), database.url
                ),
            ]
            results += nodered_peer(broker.port, "bench-nodered", total, database.url)
    finally:
        database.stop()
        broker.stop()
    if fmt == NATIVE:
        queued = f"{meters:,} meters x {readings} = {total:,} QoS 1 messages"
    else:  # a format may send more than one message a reading
        queued = f"{meters:,} {fmt} meters x {readings} readings: {total:,} QoS 1 messages"
    return [
        ratio_figure(
            f"{result.contender} draining a queued backlog ({queued})",
            result.rate,
            "msg/s",
            "bare paho client",
            bare.rate,
            TARGET if result.contender == DAEMON else None,
        )
        for result in results
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("bench/out/drain"))
    parser.add_argument(
        "--profile", type=Path, help="record the daemon with py-spy (collapsed stacks) here"
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="the daemon and its ceiling only (while tuning)"
    )
    parser.add_argument(
        "--format",
        default=NATIVE,
        choices=(*formats.names(), MIXED),
        help="the backlog of simulate's fleet of this format (the daemon and its ceiling only)",
    )
    args = parser.parse_args()
    figures = measure(
        args.meters, args.readings, args.out, args.profile, not args.no_peers, args.format
    )
    print(render(figures))


if __name__ == "__main__":
    main()
