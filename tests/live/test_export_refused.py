"""A database that refuses the daemon's writes (a wrong token) stops nothing: the ledger goes on
accounting, /healthz says degraded with the reason, the failure is logged once and counted, and
the next attempt waits the slowest pace."""

import time
from pathlib import Path

from tests.export.sites import TOKEN, TOKEN_ENV
from tests.live.harness import Broker, Daemon, Publisher, free_port, site_toml, wait_until
from tests.tsdb.servers import InfluxDB16, V2WriteProxy


def test_a_refusing_database_is_reported_once_and_stops_nothing(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker").start()
    influx = InfluxDB16(tmp_path / "influxdb").start()
    influx.create_database("levy")
    proxy = V2WriteProxy(influx, TOKEN).start()
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, 1, start=None)
    config.write_text(
        config.read_text() + f'[influx]\nurl = "{proxy.url}"\norg = "levy"\nbucket = "levy"\n'
        f'token_env = "{TOKEN_ENV}"\ninterval_s = 1\n'
    )
    daemon = Daemon(config, health, env={TOKEN_ENV: "not-the-token"}).start()
    publisher = Publisher(broker.port)
    try:
        wait_until(lambda: daemon.health()["export"]["status"] == "failing", what="the refusal")
        start = time.time_ns() // 1_000_000 - 3000
        for step in range(3):
            publisher.native("t/rig-0", start + 1000 * step, f"1000.00{step}")
        wait_until(lambda: accepted(daemon) == 3, what="the readings accounted")
        state = daemon.health()
        metrics = daemon.metrics()
    finally:
        publisher.close()
        assert daemon.terminate() == 0
        proxy.stop()
        influx.stop()
        broker.stop()
    assert state["status"] == "degraded"
    assert state["export"]["reason"] == "unauthorized"
    assert "HTTP 401" in " ".join(state["degraded"])
    assert 'levy_export_errors_total{reason="unauthorized"} 1.0' in metrics
    assert daemon.output().count("failed: InfluxDB answered HTTP 401") == 1
    assert proxy.writes == 0


def accepted(daemon: Daemon) -> float:
    lines = daemon.metrics().splitlines()
    return float(next(x for x in lines if x.startswith("levy_readings_accepted_total")).split()[1])
