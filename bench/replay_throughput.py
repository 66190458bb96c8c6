"""Replay throughput: 1,000,000 recorded lines of 10,000 meters (one reading per meter every
10 s), through the whole path (feed parsing, decoding, rules, splitting, SQLite commits) as the
command runs it, in a process of its own into a fresh ledger; beside the floor measured in the
same run on the same lines: a loop that only parses each line and its payload with `json`, each
the best of two taken in turn. Then the same readings as the daemon's archive holds them
(batches of 500, each journaled), which is what `verify --archive` replays.

    python -m bench.replay_throughput [--lines 1000000] [--meters 10000] [--out bench/out]
        [--format native]

`--format` another of `simulate`'s formats (or `mixed`): its synthetic fleet's feed as
`levy-monitor simulate` records it, in place of the native one built here.
"""

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench.fleet import NATIVE, recorded, simulate_feed, write_fleet
from bench.table import Figure, ratio_figure, render
from collector import formats
from collector.archive import RawArchive, Record
from collector.feed import format_feed_line, read_feed
from levy.app.journal import BATCH
from levy.config import load_config
from levy.config.sections import DaemonConfig
from levy.core.units import datetime_to_ms
from levy.tools.simulate.fleet import MIXED

START = "2026-10-01T00:00:00+05:00"
TARGET = 0.5
"""Replay's share of the JSON floor to reach (issue 13)."""
ROUNDS = 2
"""Runs of the floor and of the replay, taken in turn; each side's best is the figure."""


def records(lines: int, meters: int) -> Iterator[Record]:
    """One reading per meter every 10 s, as the native payload: (receive ms, topic, payload)."""
    start_ms = datetime_to_ms(datetime.fromisoformat(START))
    for n in range(lines):
        step, meter = divmod(n, meters)
        ms = start_ms + step * 10_000 + meter
        register = f"{1000 + step // 100}.{step % 100:02d}"
        payload = f'{{"ts": {ms // 1000}.{ms % 1000:03d}, "energy_kwh": {register}}}'.encode()
        yield ms, f"bench/rig-{meter:05d}", payload


def write_feed(path: Path, made: Iterator[Record]) -> None:
    """A recording, as mosquitto_sub -F %j writes it."""
    with path.open("w") as out:
        for ms, topic, payload in made:
            out.write(format_feed_line(ms, topic, payload) + "\n")
        out.flush()
        os.fsync(out.fileno())  # written back now, not while the replay is timed


def write_archive(folder: Path, made: Iterator[Record]) -> list[Path]:
    """The same readings as the daemon archives them: batches of the daemon's size, each
    journaled with its end (what `verify --archive` replays)."""
    shutil.rmtree(folder, ignore_errors=True)
    size = DaemonConfig().batch_max_messages
    with RawArchive(folder, retention_days=0) as archive:
        while chunk := list(itertools.islice(made, size)):
            archive.append([*chunk, (max(ms for ms, _, _ in chunk), BATCH, b"")])
        return archive.files()


def json_floor(files: list[Path]) -> float:
    """Seconds to parse every line and its payload (if it has one) with the standard library,
    nothing more."""
    began = time.perf_counter()
    for file in files:
        with file.open("rb") as lines:
            for line in lines:
                payload = json.loads(line)["payload"]
                if payload is not None:
                    json.loads(payload)
    return time.perf_counter() - began


def replayed(config: Path, source: Path) -> float:
    """Seconds for `levy-monitor replay` into a fresh ledger, start to exit."""
    ledger = load_config(config).ledger.path
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    began = time.perf_counter()
    command = [sys.executable, "-m", "levy", "replay", "-c", str(config), "-i", str(source)]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def interleaved(files: list[Path], config: Path, source: Path) -> tuple[float, float]:
    """The floor's and the replay's best of `ROUNDS`, taken in turn: the host's speed drifts
    within a minute (floors of one feed a minute apart differed by a third), and a ratio of two
    single runs took the drift for a figure."""
    floors, replays = [], []
    for _ in range(ROUNDS):
        floors.append(json_floor(files))
        replays.append(replayed(config, source))
    return min(floors), min(replays)


def measure(lines: int, meters: int, out: Path, fmt: str = NATIVE) -> list[Figure]:
    """`fmt`: `native` (the feed built here), or a format of `simulate`'s, whose fleet it
    records."""
    config = write_fleet(out, meters, START, fmt=fmt)
    feed = out / "feed.jsonl"
    if fmt == NATIVE:
        write_feed(feed, records(lines, meters))
    else:
        simulate_feed(config, feed, START, max(lines // meters, 1) * 10)
    figures = []
    archive = write_archive(out / "archive", recorded(feed))
    for kind, source, files in (
        ("recorded feed", feed, [feed]),
        ("daemon's archive", out / "archive", archive),
    ):
        floor_s, replay_s = interleaved(files, config, source)
        count = sum(1 for file in files for _ in read_feed(file))
        named = kind if fmt == NATIVE else f"{kind} ({fmt})"
        name = f"replay of a {named}, {count:,} lines of {meters:,} meters, into a fresh ledger"
        rate, floor = count / replay_s, count / floor_s
        figures.append(ratio_figure(name, rate, "lines/s", "json floor", floor, TARGET))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/replay"))
    parser.add_argument("--format", default=NATIVE, choices=(*formats.names(), MIXED))
    args = parser.parse_args()
    print(render(measure(args.lines, args.meters, args.out, args.format)))


if __name__ == "__main__":
    main()
