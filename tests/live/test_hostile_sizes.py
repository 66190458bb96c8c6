"""The cost of garbage is bounded, against a real Mosquitto and the daemon as a process: 10,000
messages on 60 kB topics and one 50 MB payload grow the ledger and the archive by a bounded
amount and the daemon's memory stays bounded; the readings around them are billed as usual."""

import sqlite3
import time
from pathlib import Path

from levy.ledger.rejections import rejection_counts
from tests.live.harness import Broker, Daemon, Publisher, free_port, site_toml, wait_until

TOPICS = 10_000
TOPIC_BYTES = 60_000
BIG_PAYLOAD = 50 * 1024 * 1024


def size_of(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def counts(ledger: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return rejection_counts(db)
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_long_topics_and_a_huge_payload_cost_a_bounded_amount(tmp_path):
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, 1, start=None), health).start()
    ledger = tmp_path / "var" / "live-test.sqlite"
    archive = tmp_path / "var" / "archive" / "live-test"
    try:
        publisher = Publisher(broker.port)
        publisher.native("t/rig-0", time.time_ns() // 1_000_000, "100")
        wait_until(lambda: ledger.exists() and size_of(archive) > 0, what="the first reading")
        before = size_of(ledger) + size_of(ledger.with_name(ledger.name + "-wal")), size_of(archive)
        for n in range(TOPICS):
            topic = f"t/{n:05d}/" + "x" * (TOPIC_BYTES - 8)
            info = publisher.client.publish(topic, b'{"energy_kwh": 1}', qos=1)
            if n % 200 == 199:
                info.wait_for_publish(30)
        publisher.client.publish(
            "t/rig-0", b"{" + b" " * BIG_PAYLOAD + b"}", qos=1
        ).wait_for_publish(60)
        expected = {"unknown_meter": TOPICS, "oversized": 1}
        wait_until(lambda: counts(ledger) == expected, timeout_s=120, what="every rejection")
        assert daemon.health()["connected"] is True
        peak = peak_rss_mb(daemon.process.pid)
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()
    ledger_growth = size_of(ledger) - before[0]
    archive_growth = size_of(archive) - before[1]
    # 10 kept rejections and a count per hour, and 1.1 kB per archived line
    assert ledger_growth < 1_000_000, ledger_growth
    assert archive_growth < TOPICS * 1_200 + 10_000, archive_growth
    # the 50 MB payload is held once by the MQTT client while it is refused, never copied around
    assert peak < 400, f"peak resident memory {peak:.0f} MB"
