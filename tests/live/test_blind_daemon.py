"""The daemon's blindness is not the meters' fault (rule 6), against a real Mosquitto and the
daemon as a process: a backlog whose drain takes several stale_after_s bills nothing as deemed,
a meter without timestamps is metered across the daemon's downtime, a clock ahead loses nothing,
and an emptied ledger is refused."""

import signal
import sqlite3
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from levy.core.units import kwh_to_mj
from tests.live.harness import (
    Broker,
    Daemon,
    Publisher,
    billed,
    free_port,
    levy,
    replayed_report,
    report,
    site_toml,
    this_month,
    wait_until,
)

STALE_S = 3
KW = Decimal(1)
"""Each rig draws 1 kW: well under its 3.6 kW rating, so every interval is plausible."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def register(start_ms: int, at_ms: int) -> str:
    """A 1 kW rig's register at `at_ms`, in kWh, from 100 at `start_ms`."""
    return str(Decimal(100) + KW * (at_ms - start_ms) / 3_600_000)


def configured(tmp_path, broker: Broker, meters: int, daemon: str = "", extra: str = "") -> Daemon:
    health = free_port()
    start = iso(now_ms())
    config = site_toml(tmp_path, broker.port, health, meters, start=start, daemon=daemon)
    config.write_text(config.read_text() + f"\n[rules]\nstale_after_s = {STALE_S}\n" + extra)
    return Daemon(config, health)


@pytest.fixture
def broker(tmp_path):
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


def deemed_reasons(document: dict) -> set[str]:
    return {d["reason"] for m in document["meters"] for d in m["deemed_intervals"]}


def baselines(daemon: Daemon) -> list[int | None]:
    ledger = daemon.config.parent / "var" / "live-test.sqlite"
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT baseline_ms FROM meters")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def read_to(daemon: Daemon, ms: int, meters: int) -> bool:
    """Every meter's last valid reading is at `ms` or later."""
    seen = baselines(daemon)
    return len(seen) == meters and all(b is not None and b >= ms for b in seen)


class Rigs:
    """`count` native rigs, each publishing its register (with its own ts) every `step_ms`."""

    def __init__(self, publisher: Publisher, count: int, step_ms: int) -> None:
        self.publisher, self.count, self.step_ms = publisher, count, step_ms
        self.start_ms = now_ms()
        self.last_ms = self.start_ms

    def run_for(self, seconds: float) -> None:
        until = now_ms() + seconds * 1000
        while now_ms() < until:
            at = now_ms()
            for n in range(self.count):
                self.publisher.native(f"t/rig-{n}", at, register(self.start_ms, at))
            self.last_ms = at
            time.sleep(self.step_ms / 1000)


SLOW = "batch_max_messages = 1\nqueue_max = 50\nsweep_interval_s = 1\n"
"""One message per commit makes a drain slow (thousands of messages take many seconds), and a
small inbox leaves the backlog with the broker, as a backlog larger than memory would."""


def billed_as_published(daemon: Daemon, publisher: Publisher, folder) -> dict:
    """This month's live report: nothing deemed but the time before the meters' first readings,
    and the same as a replay of what was published."""
    live = report(daemon.config, this_month())
    assert deemed_reasons(live) <= {"no_baseline"}
    published = publisher.write(folder / "published.jsonl")
    assert live == replayed_report(daemon.config, [published], folder / "replay", this_month())
    return live


def test_a_backlog_drained_over_several_stale_after_bills_nothing_as_deemed(tmp_path, broker):
    daemon = configured(tmp_path, broker, 10, daemon=SLOW)
    daemon.start()
    try:
        publisher = Publisher(broker.port)
        rigs = Rigs(publisher, 10, step_ms=10)
        rigs.run_for(1)
        assert daemon.terminate() == 0
        rigs.run_for(16)  # a backlog that takes several stale_after to drain on a fast machine
        restarted = time.monotonic()
        daemon.start()
        rigs.step_ms = 200  # live again: well within what the daemon commits per second
        caught_up = blind_shown = False
        while not caught_up:
            mark = rigs.last_ms
            rigs.run_for(0.5)
            blind_shown = blind_shown or "levy_blind 1.0" in daemon.metrics()
            caught_up = read_to(daemon, mark, 10)
            assert time.monotonic() - restarted < 120, "the drain did not end"
        drained_s = time.monotonic() - restarted
        assert drained_s > 2 * STALE_S, f"the drain took only {drained_s:.1f} s"
        assert blind_shown, "levy_blind did not show the drain"
        wait_until(lambda: "levy_blind 0.0" in daemon.metrics(), what="levy_blind back to 0")
        rigs.run_for(0.5)
        wait_until(lambda: read_to(daemon, rigs.last_ms, 10), what="the last readings")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    billed_as_published(daemon, publisher, tmp_path)


def test_a_daemon_behind_its_feed_deems_no_reporting_meter_silent(tmp_path, broker):
    """Connected all along, but stalled (SIGSTOP: a host too busy, a long fsync) while its meters
    kept reporting: it comes back several stale_after behind its feed, and its sweeps must wait
    for what the broker already holds rather than take the wall clock's word."""
    daemon = configured(tmp_path, broker, 10, daemon=SLOW)
    daemon.start()
    try:
        publisher = Publisher(broker.port)
        rigs = Rigs(publisher, 10, step_ms=10)
        rigs.run_for(1)
        wait_until(lambda: read_to(daemon, rigs.last_ms, 10), what="the first readings")
        daemon.process.send_signal(signal.SIGSTOP)
        try:
            rigs.run_for(2 * STALE_S)
        finally:
            daemon.process.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        rigs.step_ms = 200
        while not read_to(daemon, rigs.last_ms - 200, 10):
            rigs.run_for(0.5)
            assert time.monotonic() - resumed < 120, "the daemon did not catch up"
        behind_s = time.monotonic() - resumed
        assert behind_s > STALE_S, f"the daemon caught up in {behind_s:.1f} s"
        rigs.run_for(1.5)  # a sweep or more once caught up
        wait_until(lambda: read_to(daemon, rigs.last_ms, 10), what="the last readings")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    live = billed_as_published(daemon, publisher, tmp_path)
    archive = tmp_path / "var" / "archive" / "live-test"
    assert live == replayed_report(daemon.config, [archive], tmp_path / "archived", this_month())


MBMD_METER = '[[meters]]\nid = "sdm-1"\nformat = "mbmd"\ntopic = "t/sdm-1"\nrated_kw = "3.6"\n'


@pytest.mark.parametrize("qos", [0, 1], ids=["lost-while-down", "queued-for-the-daemon"])
def test_a_meter_without_timestamps_is_metered_across_the_daemons_downtime(tmp_path, broker, qos):
    """QoS 0: the broker drops what is published while the daemon is down, so the next reading
    spans the downtime. QoS 1: the broker queues it, and it arrives in a burst stamped with its
    delivery time."""
    daemon = configured(tmp_path, broker, 0, daemon="sweep_interval_s = 1\n", extra=MBMD_METER)
    daemon.start()
    try:
        publisher = Publisher(broker.port)
        start = now_ms()

        def publish_for(seconds: float) -> None:
            until = now_ms() + seconds * 1000
            while now_ms() < until:
                at = now_ms()
                value = register(start, at)
                publisher.client.publish(
                    "t/sdm-1/Import", value.encode(), qos=qos
                ).wait_for_publish()
                time.sleep(0.5)

        publish_for(2)
        assert daemon.terminate() == 0
        publish_for(2 * STALE_S)
        daemon.start()
        publish_for(2)
        time.sleep(1)
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    live = report(daemon.config, this_month())
    [meter] = live["meters"]
    assert deemed_reasons(live) <= {"no_baseline"}, meter["deemed_intervals"]
    # about 1 kW over ~10 s of metered time: the downtime's energy is metered, not deemed
    assert Decimal(meter["metered_kwh"]) >= Decimal("0.002")
    # the blind spans come from the journal: a replay of the archive bills the same
    archive = tmp_path / "var" / "archive" / "live-test"
    assert live == replayed_report(daemon.config, [archive], tmp_path / "replay", this_month())


def test_a_clock_ahead_loses_no_reading(tmp_path, broker):
    daemon = configured(tmp_path, broker, 1, daemon="sweep_interval_s = 1\n")
    daemon.start()
    try:
        publisher = Publisher(broker.port)
        start = now_ms()
        publisher.native("t/rig-0", start, register(start, start))
        time.sleep(0.3)
        ahead = now_ms()
        publisher.native("t/rig-0", ahead + 60_000, register(start, ahead))
        last = ahead
        for _ in range(20):
            time.sleep(0.1)
            last = now_ms()
            publisher.native("t/rig-0", last, register(start, last))
        wait_until(lambda: read_to(daemon, last, 1), what="every reading")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    expected = Decimal(register(start, last)) - 100
    assert billed(daemon.config, "rig-0").metered_mj == kwh_to_mj(expected)


def test_an_emptied_ledger_is_refused_by_the_daemon(tmp_path, broker):
    daemon = configured(tmp_path, broker, 1)
    ledger = tmp_path / "var" / "live-test.sqlite"
    ledger.parent.mkdir()
    ledger.write_bytes(b"")
    done = levy("run", "-c", str(daemon.config))
    assert done.returncode == 2
    assert "is empty (0 bytes)" in done.stderr and "Traceback" not in done.stderr
    assert ledger.read_bytes() == b""
