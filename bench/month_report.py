"""Ledger size and monthly report time for 10,000 meters over a whole month.

The ledger stores one row per meter, basis and reason per clock hour, so its size does not depend
on how often meters report while they report within `stale_after_s`: a reading every 15 minutes
builds the same rows as one every 10 seconds, 90 times faster. Every 500th meter is silent for
two hours a day (deemed rows), as a real site has a few.

    python -m bench.month_report [--meters 10000] [--month 2026-10] [--out bench/out/month]
"""

import argparse
import time
from pathlib import Path

from bench.fleet import write_fleet
from bench.table import Figure, bound_figure, render
from levy.app.site import Site
from levy.config import load_config
from levy.core.calendar import parse_period
from levy.core.model import Reading
from levy.ledger.store import Ledger
from levy.report.figures import build_figures
from levy.report.render import render_json, to_document

STEP_MS = 900_000
MJ_PER_STEP = 2_880_000_000 * STEP_MS // 3_600_000  # 3.2 kW of a 3.6 kW rig
REPORT_BOUND_S = 1.0
SIZE_BOUND_MIB = 2048


def silent(meter: int, ms: int) -> bool:
    return meter % 500 == 0 and (ms // 3_600_000) % 24 in (3, 4)


def build_month(site: Site, ledger: Ledger, start: int, end: int, meters: list[str]) -> int:
    engine = site.open_engine(ledger, start)
    count = 0
    for ms in range(start, end + 2 * STEP_MS, STEP_MS):
        step = (ms - start) // STEP_MS
        batch = [
            Reading(name, ms, ms, energy_mj=step * MJ_PER_STEP)
            for n, name in enumerate(meters)
            if not silent(n, ms)
        ]
        ledger.commit(engine.apply(batch, now_ms=ms))
        count += len(batch)
    return count


def measure(meters: int, month: str, out: Path) -> list[Figure]:
    config = write_fleet(out, meters, f"{month}-01T00:00:00+05:00")
    ledger_path = out / "ledger.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    site = Site.from_config(load_config(config))
    period = parse_period(month)
    start, end = site.calendar.period_bounds(period)
    with Ledger(ledger_path) as ledger:
        build_month(site, ledger, start, end, [m.id for m in site.config.meters])
        ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = ledger.db.execute("SELECT COUNT(*) FROM intervals").fetchone()[0]
        began = time.perf_counter()
        figures = build_figures(ledger, site.id, site.calendar, site.rates, period)
        render_json(to_document(figures, site.calendar))
        report_s = time.perf_counter() - began
    size_mib = ledger_path.stat().st_size / 2**20
    return [
        bound_figure(
            f"monthly report (JSON) of {meters:,} meters, {rows:,} rows",
            report_s,
            "s",
            REPORT_BOUND_S,
        ),
        bound_figure(f"ledger of that month ({rows:,} rows)", size_mib, "MiB", SIZE_BOUND_MIB),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--out", type=Path, default=Path("bench/out/month"))
    args = parser.parse_args()
    print(render(measure(args.meters, args.month, args.out)))


if __name__ == "__main__":
    main()
