"""Replay throughput: 1,000,000 recorded lines of 10,000 meters (one reading per meter every
10 s), through the whole path: feed parsing, decoding, rules, splitting, SQLite commits.

    python -m bench.replay_throughput [--lines 1000000] [--meters 10000] [--out bench/out]
"""

import argparse
import time
from datetime import datetime
from pathlib import Path

from bench.fleet import write_fleet
from collector.feed import format_feed_line
from levy.app.replay import replay
from levy.app.site import Site
from levy.config import load_config
from levy.core.units import datetime_to_ms
from levy.ledger.store import Ledger

START = "2026-10-01T00:00:00+05:00"


def write_feed(path: Path, lines: int, meters: int) -> None:
    start_ms = datetime_to_ms(datetime.fromisoformat(START))
    with path.open("w") as out:
        for n in range(lines):
            step, meter = divmod(n, meters)
            ms = start_ms + step * 10_000 + meter
            register = f"{1000 + step // 100}.{step % 100:02d}"
            payload = f'{{"ts": {ms // 1000}.{ms % 1000:03d}, "energy_kwh": {register}}}'.encode()
            out.write(format_feed_line(ms, f"bench/rig-{meter:05d}", payload) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/replay"))
    args = parser.parse_args()
    config = write_fleet(args.out, args.meters, START)
    (args.out / "ledger.sqlite").unlink(missing_ok=True)
    feed = args.out / "feed.jsonl"
    write_feed(feed, args.lines, args.meters)
    site = Site.from_config(load_config(config))
    ledger = Ledger(site.config.ledger.path)
    began = time.perf_counter()
    summary = replay(site, ledger, [feed])
    seconds = time.perf_counter() - began
    print(f"lines            {summary.lines}")
    print(f"accepted         {summary.tally.accepted}")
    print(f"seconds          {seconds:.1f}")
    print(f"lines per second {summary.lines / seconds:,.0f}")


if __name__ == "__main__":
    main()
