"""Export throughput: a ledger of N meters over D days caught up into a real time-series database
(VictoriaMetrics, started on a free port), beside the ceiling measured in the same run: the same
line protocol, built beforehand, written by a bare influxdb-client in the same batches.

    python -m bench.export_throughput [--meters 1000] [--days 7] [--out bench/out/export]
"""

import argparse
import os
import time
from pathlib import Path

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from bench.fleet import write_fleet
from bench.month_report import build_month
from bench.table import Figure, ratio_figure, render
from levy.app.site import Site
from levy.config import load_config
from levy.config.sections import InfluxConfig
from levy.core.units import MS_PER_S
from levy.export.exporter import BATCH_ROWS, Exporter
from levy.export.influx import InfluxOutput
from levy.export.points import interval_point
from levy.ledger.changes import BEGINNING, changed_rows
from levy.ledger.store import Ledger
from tests.tsdb.servers import VictoriaMetrics

START = "2026-10-01T00:00:00+05:00"
TOKEN_ENV = "LEVY_BENCH_TOKEN"
DAY_MS = 86_400 * MS_PER_S


def built_ledger(out: Path, meters: int, days: int) -> Site:
    config = write_fleet(out, meters, START)
    ledger_path = out / "ledger.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    site = Site.from_config(load_config(config))
    start = site.configured_start_ms()
    assert start is not None
    with Ledger(ledger_path) as ledger:
        build_month(site, ledger, start, start + days * DAY_MS, [m.id for m in site.config.meters])
    return site


def with_influx(site: Site, url: str) -> Site:
    """The bench site exporting to `url`."""
    influx = InfluxConfig(url=url, org="bench", bucket="bench", token_env=TOKEN_ENV)
    return Site.from_config(site.config.model_copy(update={"influx": influx}))


def ceiling(site: Site, url: str) -> tuple[int, float]:
    """The rows' lines built first, then written alone: what the database and client can take."""
    with Ledger(site.config.ledger.path, writer=False) as ledger:
        lines, cursor = [], BEGINNING
        while rows := changed_rows(ledger.db, cursor, BATCH_ROWS):
            lines.append([interval_point(site.id, c.row).to_line_protocol() for c in rows])
            cursor = rows[-1].cursor
    client = InfluxDBClient(url=url, token="bench", org="bench", enable_gzip=True)
    api = client.write_api(write_options=SYNCHRONOUS)
    began = time.perf_counter()
    for batch in lines:
        api.write("ceiling", "bench", batch, WritePrecision.MS)
    spent = time.perf_counter() - began
    client.close()
    return sum(map(len, lines)), spent


def exported(site: Site) -> float:
    exporter = Exporter(site, InfluxOutput(site.config.influx), lambda: time.time_ns() // 10**6)
    began = time.perf_counter()
    exporter.catch_up(0, at_ledger_clock=True)
    spent = time.perf_counter() - began
    exporter.close()
    return spent


def measure(meters: int, days: int, out: Path) -> list[Figure]:
    os.environ[TOKEN_ENV] = "bench"
    site = built_ledger(out.resolve(), meters, days)
    database = VictoriaMetrics(out / "victoria").start()
    try:
        site = with_influx(site, database.url)
        rows, bare_s = ceiling(site, database.url)
        export_s = exported(site)
    finally:
        database.stop()
    name = f"export of {meters:,} meters x {days} days ({rows:,} rows) into VictoriaMetrics"
    return [
        ratio_figure(name, rows / export_s, "points/s", "bare influxdb-client", rows / bare_s, None)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/out/export"))
    args = parser.parse_args()
    print(render(measure(args.meters, args.days, args.out)))


if __name__ == "__main__":
    main()
