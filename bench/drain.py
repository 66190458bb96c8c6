"""Draining a queued backlog: the daemon against a bare paho client on the same broker and the
same backlog, in one run, with the usual hand-written bridges beside them.

    python -m bench.drain [--meters 10000] [--readings 12] [--out bench/out/drain]

A Mosquitto and a VictoriaMetrics of the benchmark's own start on free ports. Each contender
gets a persistent session before the backlog is published, so every one finds the same
`meters x readings` QoS 1 messages queued when it connects. The daemon runs as systemd would run
it (`levy-monitor run`, a 10,000-meter inventory, the raw archive, the SQLite ledger, the export
into VictoriaMetrics every 10 s), and its drain is timed from its connection to the last message
committed and acknowledged (`levy_messages_total`, polled every 50 ms).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.backlog import TOPIC_PREFIX, backlog_start_ms, make_session, payloads, publish
from bench.fleet import write_fleet
from levy.core.units import ms_to_datetime
from tests.live.harness import Broker, free_port
from tests.tsdb.servers import VictoriaMetrics

TOKEN_ENV = "LEVY_BENCH_TOKEN"
POLL_S = 0.05
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


def daemon_site(out: Path, meters: int, port: int, health: int, influx: str) -> Path:
    extra = (
        f'\n[mqtt]\nport = {port}\nclient_id = "bench-daemon"\ntopics = ["{TOPIC_PREFIX}/#"]\n'
        f"\n[daemon]\nhealth_port = {health}\n"
        f'\n[influx]\nurl = "{influx}"\norg = "bench"\nbucket = "daemon"\n'
        f'token_env = "{TOKEN_ENV}"\n'
    )
    start = ms_to_datetime(backlog_start_ms(0) - 86_400_000).isoformat()
    return write_fleet(out, meters, start, extra)


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def daemon(config: Path, health: int, expect: int, profile: Path | None) -> Drain:
    url = f"http://127.0.0.1:{health}/metrics"
    log = (config.parent / "daemon.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "levy", "run", "-c", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, TOKEN_ENV: "bench"},
    )
    spy = None
    if profile is not None:
        spy_argv = ["py-spy", "record", "--format", "raw", "--threads", "-o", str(profile)]
        spy = subprocess.Popen([*spy_argv, "--pid", str(process.pid)], stdout=subprocess.DEVNULL)
    try:
        connected_at = None
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the daemon exited: {(config.parent / 'daemon.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    text = answer.read().decode()
            except OSError:
                time.sleep(POLL_S)
                continue
            now = time.perf_counter()
            if connected_at is None and metric(text, "levy_mqtt_connected") == 1:
                connected_at = now
            if connected_at is not None and metric(text, "levy_messages_total") >= expect:
                return Drain("levy-monitor run", expect, now - connected_at)
            time.sleep(POLL_S)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            spy.wait(timeout=60)
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("bench/out/drain"))
    parser.add_argument(
        "--profile", type=Path, help="record the daemon with py-spy (collapsed stacks) here"
    )
    args = parser.parse_args()
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    broker = Broker(out / "broker").start()
    database = VictoriaMetrics(out / "victoria").start()
    try:
        health = free_port()
        config = daemon_site(out / "site", args.meters, broker.port, health, database.url)
        contenders = ["bench-bare", "bench-daemon", "bench-sync", "bench-batch"]
        for client_id in contenders:
            make_session(broker.port, client_id, [f"{TOPIC_PREFIX}/#"])
        messages = list(payloads(args.meters, args.readings, backlog_start_ms(args.readings)))
        published_s = publish(broker.port, messages)
        total = len(messages)
        results = [
            peer("bare", broker.port, "bench-bare", total, None),
            daemon(config, health, total, args.profile),
            peer("influx-batch", broker.port, "bench-batch", total, database.url),
            peer("influx-sync", broker.port, "bench-sync", SYNC_LIMIT, database.url),
        ]
    finally:
        database.stop()
        broker.stop()
    ceiling = results[0].rate
    print(
        f"backlog: {args.meters} meters x {args.readings} readings = {total:,} QoS 1 messages "
        f"(published in {published_s:.1f} s)"
    )
    print(f"{'contender':<24} {'messages':>9} {'seconds':>8} {'msg/s':>9} {'ratio':>6}")
    for result in results:
        print(
            f"{result.contender:<24} {result.messages:>9,} {result.seconds:>8.2f} "
            f"{result.rate:>9,.0f} {result.rate / ceiling:>6.2f}"
        )


if __name__ == "__main__":
    main()
