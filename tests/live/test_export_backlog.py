"""While the daemon reads the backlog its broker kept for it, its export samples no meter: the
meters' states are as old as its outage and their readings are on their way, so every meter
would show silent (and the silent-meter alert fire) for meters that were reporting. Against a
real Mosquitto, VictoriaMetrics and the daemon as a process."""

import sqlite3
import time
from pathlib import Path

import pytest

from tests.export.sites import TOKEN, TOKEN_ENV
from tests.live.harness import (
    Broker,
    Daemon,
    Publisher,
    free_port,
    publish_numbered,
    site_toml,
    wait_until,
)
from tests.tsdb.servers import VictoriaMetrics

BACKLOG = 60_000
"""Seconds of reading for the daemon: its catching up spans several meter slots."""
SLOT_MS = 1_000
"""`meter_interval_s` = 1: a meter's point is at the start of its second."""


@pytest.fixture
def servers(tmp_path):
    broker = Broker(tmp_path / "broker").start()
    database = VictoriaMetrics(tmp_path / "victoria").start()
    yield broker, database
    database.stop()
    broker.stop()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def seen_again_ms(ledger: Path, after_ms: int) -> int | None:
    """When the daemon finished reading its backlog: the end of its blindness since `after_ms`."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        query = "SELECT max(end_ms) FROM blind_spans WHERE end_ms >= ?"
        return db.execute(query, (after_ms,)).fetchone()[0]
    finally:
        db.close()


def meter_sample_times(database: VictoriaMetrics) -> list[int]:
    return [
        t
        for series in database.export('{__name__="levy_meter_age_s"}')
        for t in series["timestamps"]
    ]


def test_a_daemon_reading_its_backlog_samples_no_meter(tmp_path, servers) -> None:
    broker, database = servers
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, 2)
    config.write_text(
        config.read_text() + f'[influx]\nurl = "{database.url}"\norg = "levy"\nbucket = "levy"\n'
        f'token_env = "{TOKEN_ENV}"\ninterval_s = 1\nmeter_interval_s = 1\n'
    )
    daemon = Daemon(config, health, env={TOKEN_ENV: TOKEN}).start()
    publisher = Publisher(broker.port)
    for meter in ("t/rig-0", "t/rig-1"):
        publisher.native(meter, now_ms(), "100")  # a reading: a meter's age_s is known
    publisher.close()
    wait_until(lambda: bool(meter_sample_times(database)), what="the meters sampled once seeing")
    assert daemon.terminate() == 0
    publish_numbered(broker.port, BACKLOG)  # kept in the daemon's session while it is down

    restarted_ms = now_ms()
    daemon.start()
    ledger = tmp_path / "var" / "live-test.sqlite"
    wait_until(lambda: seen_again_ms(ledger, restarted_ms) is not None, 120, "the backlog read")
    seen_ms = seen_again_ms(ledger, restarted_ms)
    assert seen_ms is not None
    wait_until(
        lambda: any(t >= seen_ms - seen_ms % SLOT_MS for t in meter_sample_times(database)),
        what="the meters sampled again once the backlog was read",
    )
    daemon.terminate()

    catching_up = range(
        restarted_ms - restarted_ms % SLOT_MS + SLOT_MS, seen_ms - seen_ms % SLOT_MS
    )
    assert len(catching_up) >= SLOT_MS, "the backlog took less than a meter slot to read"
    assert not [t for t in meter_sample_times(database) if t in catching_up]
