"""Nothing lost, nothing counted twice: the daemon killed with SIGKILL, stopped with SIGTERM, and
its broker restarted, in the middle of a stream; the final ledger equals a replay of everything
that was published."""

import sqlite3
import time

import pytest

from tests.live.harness import (
    Broker,
    Daemon,
    Publisher,
    free_port,
    replayed_report,
    report,
    site_toml,
    wait_until,
)

METERS = 4


@pytest.fixture
def broker(tmp_path):
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


@pytest.fixture
def daemon(tmp_path, broker):
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, METERS)
    process = Daemon(config, health).start()
    yield process
    if process.process.poll() is None:
        process.kill()


class Stream:
    """Rigs drawing 3.6 kW, one reading each per 100 ms of payload time."""

    def __init__(self, publisher: Publisher, lead_s: int = 120) -> None:
        """Payload time starts `lead_s` in the past and is never ahead of the clock (a step
        waits for it): a time ahead of its receipt would count as the receive time (rule 1),
        which a replay of the published lines, stamped with payload time, cannot know."""
        self.publisher = publisher
        self.start_ms = time.time_ns() // 1_000_000 - lead_s * 1000
        self.step = 0

    def publish(self, steps: int) -> None:
        for _ in range(steps):
            ts = self.start_ms + self.step * 100
            time.sleep(max(0, ts - time.time_ns() // 1_000_000) / 1000)
            for n in range(METERS):
                kwh = f"{1000 + n}.{self.step:04d}"
                self.publisher.native(f"t/rig-{n}", ts, kwh)
            self.step += 1

    @property
    def last_ms(self) -> int:
        return self.start_ms + (self.step - 1) * 100


def all_read(daemon: Daemon, last_ms: int) -> bool:
    ledger = daemon.config.parent / "var" / "live-test.sqlite"
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT baseline_ms FROM meters").fetchall()
    except sqlite3.OperationalError:
        return False
    finally:
        db.close()
    return len(rows) == METERS and all(row[0] == last_ms for row in rows)


def settle_and_compare(daemon: Daemon, publisher: Publisher, stream: Stream, tmp_path) -> None:
    wait_until(lambda: all_read(daemon, stream.last_ms), what="the daemon to read every message")
    assert daemon.terminate() == 0
    published = publisher.write(tmp_path / "published.jsonl")
    live = report(daemon.config)
    assert live == replayed_report(daemon.config, [published], tmp_path / "replay")
    assert float(live["totals"]["metered_kwh"]) > 0


def test_sigkill_mid_stream_loses_nothing_and_counts_nothing_twice(daemon, broker, tmp_path):
    publisher = Publisher(broker.port)
    stream = Stream(publisher)
    for _ in range(3):
        stream.publish(150)
        daemon.kill()
        stream.publish(20)
        daemon.start()
    stream.publish(100)
    settle_and_compare(daemon, publisher, stream, tmp_path)
    assert daemon.output().count("connected to 127.0.0.1") >= 4


def test_broker_restart_mid_stream_loses_nothing(daemon, broker, tmp_path):
    publisher = Publisher(broker.port)
    stream = Stream(publisher)
    stream.publish(200)
    broker.restart()
    wait_until(publisher.client.is_connected, what="the publisher to reconnect")
    stream.publish(200)
    wait_until(lambda: daemon.health()["connected"], what="the daemon to reconnect")
    settle_and_compare(daemon, publisher, stream, tmp_path)


def test_sigterm_exits_zero_within_seconds_and_a_restart_resumes(daemon, broker, tmp_path):
    publisher = Publisher(broker.port)
    stream = Stream(publisher)
    stream.publish(200)
    began = time.monotonic()
    assert daemon.terminate() == 0
    assert time.monotonic() - began < 5
    stream.publish(100)
    daemon.start()
    stream.publish(50)
    settle_and_compare(daemon, publisher, stream, tmp_path)


def test_a_daemon_started_before_its_broker_waits_for_it_and_loses_nothing(tmp_path):
    broker = Broker(tmp_path / "broker")
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, METERS), health)
    daemon.start(wait_healthy=False)
    try:
        wait_until(lambda: daemon.output().count("not reachable") >= 1, what="a retry")
        assert daemon.process.poll() is None
        broker.start()
        wait_until(daemon.healthy, timeout_s=40, what="the daemon to connect")
        publisher = Publisher(broker.port)
        stream = Stream(publisher)
        stream.publish(50)
        settle_and_compare(daemon, publisher, stream, tmp_path)
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()


def test_an_archive_replays_from_the_accounting_start_the_daemon_chose(tmp_path, broker):
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, METERS, start=None), health).start()
    try:
        publisher = Publisher(broker.port)
        time.sleep(1.5)
        stream = Stream(publisher, lead_s=0)
        stream.publish(20)
        wait_until(lambda: all_read(daemon, stream.last_ms), what="every message")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    live = report(daemon.config)
    # no_baseline from the daemon's start to each meter's first reading, 1.5 s at 3.6 kW each
    assert float(live["totals"]["deemed_kwh"]) >= 0.006
    archive = tmp_path / "var" / "archive" / "live-test"
    assert live == replayed_report(daemon.config, [archive], tmp_path / "replay")


def test_sigterm_with_a_full_inbox_still_exits_promptly_and_loses_nothing(tmp_path, broker):
    health = free_port()
    tight = "queue_max = 3\nbatch_max_messages = 2\n"
    config = site_toml(tmp_path, broker.port, health, METERS, daemon=tight)
    daemon = Daemon(config, health).start()
    publisher = Publisher(broker.port)
    stream = Stream(publisher)
    stream.publish(150)
    began = time.monotonic()
    assert daemon.terminate() == 0
    assert time.monotonic() - began < 5
    daemon.start()
    stream.publish(10)
    settle_and_compare(daemon, publisher, stream, tmp_path)
