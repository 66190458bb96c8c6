"""The time-series database stopped in the middle of a live stream and started again a minute
later: every ledger row arrives, each once at its own time, the daemon's memory stays flat while
the database is away (the ledger is the buffer), /healthz and /metrics say what is happening,
and the ledger's figures are those of a replay of the archive."""

import sqlite3
import time
from fractions import Fraction
from pathlib import Path

import paho.mqtt.client as mqtt

from levy.core.units import MJ_PER_KWH
from tests.export.sites import TOKEN, TOKEN_ENV
from tests.live.harness import (
    Broker,
    Daemon,
    free_port,
    replayed_report,
    report,
    site_toml,
    this_month,
    wait_until,
)
from tests.tsdb.servers import InfluxDB16, V2WriteProxy

METERS = 200
PER_SECOND = 5
OUTAGE_S = 60
DB = "levy"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc")


class Stream:
    """METERS rigs at 3.6 kW, each reading PER_SECOND times a second, stamped with the clock."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="export-stream")
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.start_ms = time.time_ns() // 1_000_000

    def run(self, seconds: float, while_running=lambda: None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            tick = time.monotonic()
            now = time.time_ns() // 1_000_000
            kwh = Fraction(now - self.start_ms, 1_000_000)
            for n in range(METERS):
                payload = f'{{"ts": {now / 1000:.3f}, "energy_kwh": {float(1000 + kwh):.6f}}}'
                info = self.client.publish(f"t/rig-{n}", payload, qos=1)
            info.wait_for_publish(30)
            while_running()
            time.sleep(max(0.0, 1 / PER_SECOND - (time.monotonic() - tick)))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def exported_rows(influx: InfluxDB16) -> set[tuple[str, int, float, float]]:
    series = influx.series('SELECT "kwh", "fee_tenge" FROM "levy_interval" GROUP BY "meter"', DB)
    return {
        (s["tags"]["meter"], row["time"], row["kwh"], row["fee_tenge"])
        for s in series
        for row in s["rows"]
    }


def ledger_rows(path: Path) -> set[tuple[str, int, float, float]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT m.name, i.start_ms, i.energy_mj, i.rate FROM intervals i"
            " JOIN meters m ON m.id = i.meter_id"
        ).fetchall()
    return {
        (
            name,
            start,
            float(Fraction(mj, MJ_PER_KWH)),
            float(Fraction(mj, MJ_PER_KWH) * Fraction(rate)),
        )
        for name, start, mj, rate in rows
    }


def test_a_database_outage_costs_no_point_and_no_memory(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker").start()
    influx = InfluxDB16(tmp_path / "influxdb").start()
    influx.create_database(DB)
    proxy = V2WriteProxy(influx, TOKEN).start()
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, METERS, start=None)
    config.write_text(
        config.read_text() + f'[influx]\nurl = "{proxy.url}"\norg = "levy"\nbucket = "{DB}"\n'
        f'token_env = "{TOKEN_ENV}"\ninterval_s = 1\nmeter_interval_s = 5\n'
    )
    daemon = Daemon(config, health, env={TOKEN_ENV: TOKEN}).start()
    stream = Stream(broker.port)
    try:
        stream.run(10)
        wait_until(lambda: proxy.writes > 0, what="the first export")
        influx.stop()
        rss: list[float] = []
        stream.run(OUTAGE_S, lambda: rss.append(rss_mb(daemon.process.pid)))
        during = daemon.health()
        metrics = daemon.metrics()
        influx.start()
        stream.run(10)
        stream.close()
        wait_until(lambda: caught_up(daemon), timeout_s=90, what="the export to catch up")
    finally:
        stream.close()
        assert daemon.terminate() == 0
        proxy.stop()
        broker.stop()

    assert during["status"] == "degraded"
    assert during["export"]["status"] == "failing"
    assert during["export"]["reason"] == "unavailable"
    assert any("export to influx" in problem for problem in during["degraded"])
    assert 'levy_export_errors_total{reason="unavailable"}' in metrics
    lag = [line for line in metrics.splitlines() if line.startswith("levy_export_lag_seconds ")]
    assert float(lag[0].split()[1]) > 10

    settled = rss[len(rss) // 5 :]
    assert max(settled) - min(settled) < 10, f"RSS grew while the database was down: {rss}"

    ledger = tmp_path / "var" / "live-test.sqlite"
    assert exported_rows(influx) == ledger_rows(ledger)
    month = this_month()
    live = report(config, month)
    [liability] = influx.series(
        'SELECT last("fee_tenge") AS fee FROM "levy_liability" '
        f"WHERE \"supply\" = 'all' AND \"period\" = '{month}'",
        DB,
    )
    assert f"{liability['rows'][0]['fee']:.2f}" == live["totals"]["fee_tenge"]
    influx.stop()
    archive = tmp_path / "var" / "archive" / "live-test"
    assert live == replayed_report(config, [archive], tmp_path / "replay", month)


def caught_up(daemon: Daemon) -> bool:
    export = daemon.health()["export"]
    return export["status"] == "ok" and export["pending_rows"] == 0 and export["lag_s"] == 0
