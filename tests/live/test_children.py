"""The daemon's child processes: the MQTT client and the export. Each goes when the daemon goes,
however the daemon ends, so no orphan holds the daemon's session (the next daemon would fight
it for its client id) or writes on; the export runs niced below the ingest, and an export
process that dies is said on /healthz and started again."""

import os
import signal
from pathlib import Path

import pytest

from levy.export.child import NICENESS
from tests.export.sites import TOKEN, TOKEN_ENV
from tests.live.harness import Broker, Daemon, free_port, site_toml, wait_until

MQTT, EXPORT = "collector.mqtt_child", "levy.export.child"


@pytest.fixture
def broker(tmp_path):
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


def exporting(tmp_path: Path, broker: Broker) -> Daemon:
    """A daemon of one meter exporting every second to a database that is not there."""
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, 1)
    config.write_text(
        config.read_text() + f'[influx]\nurl = "http://127.0.0.1:{free_port()}"\norg = "levy"\n'
        f'bucket = "levy"\ntoken_env = "{TOKEN_ENV}"\ninterval_s = 1\n'
    )
    return Daemon(config, health, env={TOKEN_ENV: TOKEN})


def child(daemon: Daemon, module: str) -> int:
    """The daemon's one child process running `module`."""
    assert daemon.process is not None
    pids = set()
    for task in Path(f"/proc/{daemon.process.pid}/task").iterdir():
        pids.update(int(pid) for pid in (task / "children").read_text().split())
    (pid,) = [pid for pid in pids if module in Path(f"/proc/{pid}/cmdline").read_text()]
    return pid


def niceness(pid: int) -> int:
    """The 19th field of the process's stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


@pytest.mark.parametrize("module", [MQTT, EXPORT])
@pytest.mark.parametrize("end", [signal.SIGKILL, signal.SIGTERM])
def test_each_child_process_ends_with_the_daemon(tmp_path, broker, end, module):
    daemon = exporting(tmp_path, broker).start()
    try:
        pid = child(daemon, module)
        os.kill(daemon.process.pid, end)
        daemon.process.wait(timeout=20)
        wait_until(lambda: not alive(pid), timeout_s=15, what=f"{module} to exit")
    finally:
        if daemon.process.poll() is None:
            daemon.kill()


def test_the_export_yields_to_the_ingest_and_is_started_again_if_it_ends(tmp_path, broker):
    daemon = exporting(tmp_path, broker).start()
    try:
        pid = child(daemon, EXPORT)
        wait_until(lambda: niceness(pid) == NICENESS, what="the export process niced")
        os.kill(pid, signal.SIGKILL)
        wait_until(
            lambda: daemon.health()["export"].get("reason") == "exporter",
            what="/healthz to say the export process ended",
        )
        state, metrics = daemon.health(), daemon.metrics()
        wait_until(
            lambda: daemon.health()["export"].get("reason") == "unreachable",
            what="another export process, answering (its database is not there)",
        )
        assert child(daemon, EXPORT) != pid
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert state["status"] == "degraded"
    assert state["connected"] is True, "the ingest goes on"
    said = [problem for problem in state["degraded"] if "the export process ended" in problem]
    assert said and "(exit status -9); another starts in 1 s" in said[0]
    assert daemon.output().count("the export process ended") == 1
    assert 'levy_export_errors_total{reason="exporter"} 1.0' in metrics
