"""Replay throughput: 1,000,000 recorded lines of 10,000 meters (one reading per meter every
10 s), through the whole path (feed parsing, decoding, rules, splitting, SQLite commits) as the
command runs it, in a process of its own into a fresh ledger; beside the floor measured in the
same run on the same lines: a loop that only parses each line and its payload with `json`.

    python -m bench.replay_throughput [--lines 1000000] [--meters 10000] [--out bench/out]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.fleet import write_fleet
from bench.table import Figure, ratio_figure, render
from collector.feed import format_feed_line
from levy.config import load_config
from levy.core.units import datetime_to_ms

START = "2026-10-01T00:00:00+05:00"
TARGET = 0.5
"""Replay's share of the JSON floor to reach (issue 13)."""


def write_feed(path: Path, lines: int, meters: int) -> None:
    start_ms = datetime_to_ms(datetime.fromisoformat(START))
    with path.open("w") as out:
        for n in range(lines):
            step, meter = divmod(n, meters)
            ms = start_ms + step * 10_000 + meter
            register = f"{1000 + step // 100}.{step % 100:02d}"
            payload = f'{{"ts": {ms // 1000}.{ms % 1000:03d}, "energy_kwh": {register}}}'.encode()
            out.write(format_feed_line(ms, f"bench/rig-{meter:05d}", payload) + "\n")
        out.flush()
        os.fsync(out.fileno())  # written back now, not while the replay is timed


def json_floor(feed: Path) -> float:
    """Seconds to parse every line and its payload with the standard library, nothing more."""
    began = time.perf_counter()
    with feed.open("rb") as lines:
        for line in lines:
            json.loads(json.loads(line)["payload"])
    return time.perf_counter() - began


def replayed(config: Path, feed: Path) -> float:
    """Seconds for `levy-monitor replay` into a fresh ledger, start to exit."""
    began = time.perf_counter()
    command = [sys.executable, "-m", "levy", "replay", "-c", str(config), "-i", str(feed)]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def measure(lines: int, meters: int, out: Path) -> list[Figure]:
    config = write_fleet(out, meters, START)
    feed = out / "feed.jsonl"
    write_feed(feed, lines, meters)
    floor_s = json_floor(feed)
    ledger = load_config(config).ledger.path
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    replay_s = replayed(config, feed)
    name = f"replay, {lines:,} lines of {meters:,} meters, into a fresh ledger"
    return [ratio_figure(name, lines / replay_s, "lines/s", "json floor", lines / floor_s, TARGET)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/replay"))
    args = parser.parse_args()
    print(render(measure(args.lines, args.meters, args.out)))


if __name__ == "__main__":
    main()
