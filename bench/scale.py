"""The daemon at the scale of a large site: its resident memory once 100,000 meters are in its
state, and its recovery: the time from starting it on a ledger holding them to consuming again.

    python -m bench.scale [--meters 100000] [--out bench/out/scale]

A Mosquitto of the benchmark's own holds a persistent session for the daemon. Every meter sends
two readings, queued before the daemon starts; once all are committed and the daemon has read
the backlog's end (`levy_blind` 0), its resident memory (with its MQTT process) is read from
/proc. Then it is stopped, one more reading is queued, and it is started again: recovery is the
time from the process's start to that reading committed (configuration, ledger and state
loaded, broker connected).
"""

import argparse
import shutil
from pathlib import Path

from bench.backlog import TOPIC_PREFIX, backlog_start_ms, make_session, payloads, publish
from bench.fleet import write_fleet
from bench.running import RunningDaemon
from bench.table import Figure, bound_figure, render
from levy.core.units import ms_to_datetime
from tests.live.harness import Broker, free_port

CLIENT_ID = "bench-scale"
MEMORY_BOUND_MIB = 300
RECOVERY_BOUND_S = 5


def measure(meters: int, out: Path) -> list[Figure]:
    out = out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    broker = Broker(out / "broker").start()
    try:
        health = free_port()
        extra = (
            f'\n[mqtt]\nport = {broker.port}\nclient_id = "{CLIENT_ID}"\n'
            f'topics = ["{TOPIC_PREFIX}/#"]\n\n[daemon]\nhealth_port = {health}\n'
        )
        start = ms_to_datetime(backlog_start_ms(0) - 86_400_000).isoformat()
        config = write_fleet(out / "site", meters, start, extra)
        make_session(broker.port, CLIENT_ID, [f"{TOPIC_PREFIX}/#"])
        publish(broker.port, list(payloads(meters, 2, backlog_start_ms(3))))
        running = RunningDaemon(config, health)
        try:
            running.wait_for("levy_messages_total", 2 * meters)
            running.wait_for_zero("levy_blind")  # the backlog's end read: the daemon settled
            resident = running.resident_mib()
        finally:
            running.stop()
        publish(broker.port, list(payloads(1, 1, backlog_start_ms(1))))
        running = RunningDaemon(config, health)
        try:
            recovery_s = running.wait_for("levy_messages_total", 1) - running.started_at
        finally:
            running.stop()
    finally:
        broker.stop()
    return [
        bound_figure(
            f"resident memory, {meters:,} meters in state (daemon and its MQTT process)",
            resident,
            "MiB",
            MEMORY_BOUND_MIB,
        ),
        bound_figure(
            f"recovery: start to consuming again, {meters:,} meters in the ledger",
            recovery_s,
            "s",
            RECOVERY_BOUND_S,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/scale"))
    args = parser.parse_args()
    print(render(measure(args.meters, args.out)))


if __name__ == "__main__":
    main()
