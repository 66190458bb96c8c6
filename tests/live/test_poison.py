"""The payloads that once stopped all accounting for good (an exception out of a decoder, the
batch never acknowledged, the daemon exiting on every redelivery), sent to the daemon as a
process: it keeps running, the other meters are billed as a replay of what was published, and
every poison message is in the archive."""

import gzip
import time
from decimal import Decimal

from levy.core.units import kwh_to_mj
from tests.live.harness import (
    Daemon,
    Publisher,
    billed,
    free_port,
    replayed_config,
    replayed_report,
    report,
    site_toml,
    wait_until,
)

SHELLY = '[[meters]]\nid = "relay"\nformat = "shelly"\ntopic = "t/relay"\nrated_kw = "3.6"\n'
POISON = [
    ("t/rig-0", b'{"energy_kwh": 1, "note": 1E+1000000000000000000}'),
    ("t/rig-0", b'{"energy_kwh": 1E+1000000000000000000}'),
    ("t/relay/events/rpc", b'{"method": {"x": 1}}'),
    (
        "t/relay/events/rpc",
        b'{"method": "NotifyStatus", "params": {"ts": 1E+999999999999, "switch:0": {"aenergy": {"total": 5}}}}',
    ),
    ("t/rig-0", b"[" * 600 + b"]" * 600),
    ("t/rig-0", b"\xff\xfe binary \x00"),
]


def text_of(path) -> str:
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as file:
        return file.read()


def test_poison_payloads_stop_nothing(tmp_path, broker):
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, 2)
    config.write_text(config.read_text() + SHELLY)
    daemon = Daemon(config, health).start()
    try:
        publisher = Publisher(broker.port)
        start_ms = time.time_ns() // 1_000_000 - 10_000
        for step in range(20):
            for topic, payload in POISON:
                publisher.raw(topic, payload)
            publisher.native("t/rig-1", start_ms + step * 100, f"500.{step:04d}")
        sent = len(publisher.sent)
        wait_until(
            lambda: f"levy_messages_total {float(sent)}" in daemon.metrics(), what="every message"
        )
        assert daemon.health()["connected"] is True
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    archive = tmp_path / "var" / "archive" / "live-test"
    archived = "".join(text_of(path) for path in sorted(archive.iterdir()))
    assert archived.count("t/relay/events/rpc") == 40
    assert archived.count("payload_b64") == 20
    live = report(config)
    assert live == replayed_report(config, [archive], tmp_path / "from-archive")
    published = publisher.write(tmp_path / "published.jsonl")
    replayed = replayed_config(config, [published], tmp_path / "replay")
    assert billed(config, "rig-1") == billed(replayed, "rig-1")
    assert billed(config, "rig-1").metered_mj == kwh_to_mj(Decimal("0.0019"))  # 500 to 500.0019
