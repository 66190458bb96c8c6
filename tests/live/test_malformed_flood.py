"""A flood of garbage on one meter's topic: every message rejected with its reason and kept in the
archive, the daemon keeps running, and the other meters are billed as if nothing happened."""

import gzip
import sqlite3
import time
from decimal import Decimal

from levy.core.units import kwh_to_mj
from levy.ledger.rejections import KEPT, rejection_counts
from tests.live.harness import (
    Broker,
    Daemon,
    Publisher,
    billed,
    free_port,
    replayed_config,
    site_toml,
    wait_until,
)

GARBAGE = [
    (b"{not json", "bad_json"),
    (b"[1, 2, 3]", "not_object"),
    (b'{"ts": 1795000000}', "missing_field"),
    (b'{"energy_kwh": NaN}', "non_finite"),
    (b'{"energy_kwh": -5}', "negative"),
    (b'{"energy_kwh": "12"}', "wrong_type"),
    (b'{"energy_kwh": 1, "pad": "' + b"x" * 70_000 + b'"}', "oversized"),
]
ROUNDS = 40


def test_a_flood_of_malformed_payloads_is_rejected_kept_and_harmless(tmp_path):
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, 2), health).start()
    try:
        publisher = Publisher(broker.port)
        start_ms = time.time_ns() // 1_000_000 - ROUNDS * 100  # never ahead of the clock
        for step in range(ROUNDS):
            for payload, _ in GARBAGE:
                publisher.raw("t/rig-0", payload)
            publisher.native("t/rig-1", start_ms + step * 100, f"500.{step:04d}")
        wait_until(
            lambda: f"levy_messages_total {float(ROUNDS * (len(GARBAGE) + 1))}" in daemon.metrics(),
            what="every message",
        )
        metrics = daemon.metrics()
        for _, reason in GARBAGE:
            assert f'levy_rejected_total{{reason="{reason}"}} {float(ROUNDS)}' in metrics
        assert daemon.health()["status"] == "ok"
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()

    ledger = sqlite3.connect(tmp_path / "var" / "live-test.sqlite")
    assert rejection_counts(ledger) == {reason: ROUNDS for _, reason in GARBAGE}
    kept = dict(ledger.execute("SELECT reason, COUNT(*) FROM rejections GROUP BY reason"))
    assert all(count <= KEPT for count in kept.values()), kept

    archive = tmp_path / "var" / "archive" / "live-test"
    archived = b"".join(
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in sorted(archive.iterdir())
    )
    assert archived.count(b'"topic":"t/rig-0"') == ROUNDS * len(GARBAGE)

    clean = tmp_path / "rig-1.jsonl"
    clean.write_text("".join(line + "\n" for line in publisher.sent if '"t/rig-1"' in line))
    replayed = replayed_config(daemon.config, [clean], tmp_path / "replay")
    assert billed(daemon.config, "rig-1") == billed(replayed, "rig-1")
    assert billed(daemon.config, "rig-1").metered_mj == kwh_to_mj(Decimal("0.0039"))
