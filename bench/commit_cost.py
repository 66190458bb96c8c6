"""The daemon's commit path: what one `Ledger.commit` costs for a batch as the daemon makes them
(10,000 meters reading every 10 s: 200 readings per 200 ms batch) and for a sweep of every
meter, timing the commit alone (the engine's work is apart). Run it on another checkout's code
to compare: `PYTHONPATH=<checkout> python bench/commit_cost.py`.

    python -m bench.commit_cost [--meters 10000] [--minutes 10] [--out bench/out/commit]
"""

import argparse
import statistics
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bench.fleet import write_fleet
from levy.app.site import Site
from levy.config import load_config
from levy.core.engine import Changes
from levy.core.model import Reading
from levy.core.units import datetime_to_ms, kwh_to_mj
from levy.ledger.store import Ledger

START = "2026-10-01T00:00:00+05:00"
READ_EVERY_MS = 10_000
BATCH_MS = 200
SWEEP_EVERY_MS = 60_000


def timed_commit(ledger: Ledger, changes: Changes) -> float:
    began = time.perf_counter()
    ledger.commit(changes)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/out/commit"))
    args = parser.parse_args()
    config = write_fleet(args.out, args.meters, START)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.out / 'ledger.sqlite'}{suffix}").unlink(missing_ok=True)
    site = Site.from_config(load_config(config))
    names = [meter.id for meter in site.config.meters]
    start = datetime_to_ms(datetime.fromisoformat(START))
    with Ledger(site.config.ledger.path) as ledger:
        engine = site.open_engine(ledger, None)
        batches, sweeps, rows = [], [], []
        per_batch = args.meters * BATCH_MS // READ_EVERY_MS
        clock = start
        for step in range(args.minutes * 60_000 // BATCH_MS):
            clock = start + (step + 1) * BATCH_MS
            first = step * per_batch
            readings = []
            for n in range(first, first + per_batch):
                meter = names[n % args.meters]
                register = kwh_to_mj(Decimal(1000) + Decimal(n // args.meters) / 100)
                readings.append(Reading(meter, clock, clock, energy_mj=register))
            changes = engine.apply(readings)
            batches.append(timed_commit(ledger, changes))
            rows.append(len(changes.rows) + len(changes.states))
            if (clock - start) % SWEEP_EVERY_MS == 0:
                sweeps.append(timed_commit(ledger, engine.apply([], now_ms=clock)))
    print(f"meters                 {args.meters}")
    print(f"batches                {len(batches)} of {per_batch} readings")
    print(f"batch commit, median   {statistics.median(batches) * 1000:.2f} ms")
    print(f"  per changed item     {sum(batches) / sum(rows) * 1e6:.1f} us (rows + meter states)")
    print(f"sweep commit, median   {statistics.median(sweeps) * 1000:.1f} ms ({len(sweeps)})")


if __name__ == "__main__":
    main()
