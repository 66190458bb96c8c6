"""The MQTT client runs in a child process of the daemon's: it goes when the daemon goes, however
the daemon ends, so no orphan holds the daemon's session (the next daemon would fight it for
its client id)."""

import os
import signal
from pathlib import Path

import pytest

from tests.live.harness import Broker, Daemon, free_port, site_toml, wait_until


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


@pytest.mark.parametrize("end", [signal.SIGKILL, signal.SIGTERM])
def test_the_mqtt_process_ends_with_the_daemon(tmp_path, end):
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, 1), health).start()
    try:
        assert daemon.process is not None
        (child,) = [
            pid
            for pid in children(daemon.process.pid)
            if "collector.mqtt_child" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        os.kill(daemon.process.pid, end)
        daemon.process.wait(timeout=20)
        wait_until(lambda: not alive(child), timeout_s=10, what="the MQTT process to exit")
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.kill()
        broker.stop()
