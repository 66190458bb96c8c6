"""Real parts for the live tests: a Mosquitto of the test's own on a free port, and the daemon as
a separate process. Nothing here touches a server left running on the machine; a missing
mosquitto binary fails the test loudly."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from levy.app.replay import replay
from levy.cli.common import site_at
from levy.config.load import load_config
from levy.config.zone import load_zone
from levy.core.model import DeemedReason
from levy.ledger.store import Ledger

ZONE = load_zone("Asia/Almaty")


def this_month() -> str:
    """The site zone's current month: live readings carry the wall clock's time."""
    return datetime.now(ZONE).strftime("%Y-%m")


def previous_month() -> tuple[str, datetime, datetime]:
    """The month before this one in the site zone: its label, start and end."""
    end = datetime.now(ZONE).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def resident_kib(pid: int) -> int:
    """The process's resident memory."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A Mosquitto with persistence, so a restart keeps the daemon's session and its backlog."""

    folder: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    process: subprocess.Popen | None = None

    def start(self) -> "Broker":
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        assert Path(binary).exists(), "mosquitto is not installed: .ci/run installs it"
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        run_as = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence true\npersistence_location {self.folder}/\n"
            f"max_queued_messages 0\n{run_as}"
            f"log_dest file {self.folder}/mosquitto.log\n"
            + (self.extra or "allow_anonymous true\n")
        )
        self.process = subprocess.Popen([binary, "-c", str(conf)])
        wait_until(lambda: accepts(self.port), what=f"mosquitto on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def publish_numbered(port: int, count: int, topic: str = "t/rig-0") -> None:
    """`count` messages at QoS 1 whose payloads are their numbers, each stored by the broker."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{port}")
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, f"{n}".encode(), qos=1) for n in range(count)]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


class Publisher:
    """Publishes native payloads at QoS 1 and keeps, line by line, what it published in the replay
    format: the evidence the daemon's ledger is compared against."""

    def __init__(
        self, port: int, tls_ca: Path | None = None, auth: tuple[str, str] | None = None
    ) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{port}")
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca))
        if auth is not None:
            self.client.username_pw_set(*auth)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.sent: list[str] = []

    def native(self, topic: str, ts_ms: int, kwh: str) -> None:
        payload = f'{{"ts": {ts_ms // 1000}.{ts_ms % 1000:03d}, "energy_kwh": {kwh}}}'
        self.raw(topic, payload.encode(), ts_ms)

    def raw(self, topic: str, payload: bytes, ts_ms: int | None = None) -> None:
        from collector.feed import format_feed_line

        now_ms = time.time_ns() // 1_000_000
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(30)
        self.sent.append(format_feed_line(now_ms if ts_ms is None else ts_ms, topic, payload))

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.sent) + "\n")
        return path

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def site_toml(
    folder: Path,
    broker_port: int,
    health_port: int,
    meters: int,
    start: str | None = "previous month",
    daemon: str = "",
    **extra: str,
) -> Path:
    """A site of `meters` native rigs on `t/rig-N`; `extra` adds raw TOML to [mqtt]; without a
    `start` the ledger's accounting start is fixed when the daemon creates it; by default it is
    the start of the previous month, so that a report of this month (`this_month`) holds the
    readings, whatever the date the tests run on."""
    mqtt_extra = "".join(f"{key} = {value}\n" for key, value in extra.items())
    if start == "previous month":
        start = previous_month()[1].isoformat()
    ledger = f"accounting_start = {start}\n" if start else ""
    body = (
        '[site]\nid = "live-test"\n\n'
        f'[mqtt]\nport = {broker_port}\ntopics = ["t/#"]\n{mqtt_extra}\n'
        f"[ledger]\n{ledger}\n"
        f"[daemon]\nhealth_port = {health_port}\nbatch_max_ms = 50\n{daemon}\n"
    )
    body += "".join(
        f'[[meters]]\nid = "rig-{n}"\ntopic = "t/rig-{n}"\nrated_kw = "3.6"\n\n'
        for n in range(meters)
    )
    path = folder / "site.toml"
    path.write_text(body)
    return path


@dataclass
class Daemon:
    """`levy-monitor run` in its own process, as systemd would run it."""

    config: Path
    health_port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log: Path | None = None

    def start(self, wait_healthy: bool = True) -> "Daemon":
        self.log = self.config.parent / "daemon.log"
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "levy", "run", "-c", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        if wait_healthy:
            wait_until(self.healthy, what="the daemon's /healthz")
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"daemon exited with {self.process.returncode}:\n{self.output()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    def health(self) -> dict:
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout_s: float = 10.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def wait(self, timeout_s: float = 20.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""


def levy(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "levy", *argv], capture_output=True, text=True, timeout=120
    )


def report(config: Path, period: str | None = None) -> dict:
    period = period or this_month()
    done = levy("report", "-c", str(config), "--period", period, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # the chain head is the ledger's own history (a live daemon's commits differ from a
    # replay's by design), and the projection runs from the ledger clock (a daemon's is the wall
    # clock at its last commit, a replay's its last line): the figures are what these
    # comparisons compare
    document.pop("evidence")
    document.pop("projection")
    return document


def replayed_report(
    config: Path, feeds: list[Path], folder: Path, period: str | None = None
) -> dict:
    """The report of a fresh ledger built by replaying `feeds` with the same site configuration."""
    return report(replayed_config(config, feeds, folder), period)


def replayed_config(
    config: Path, feeds: list[Path], folder: Path, read_apart: bool = False
) -> Path:
    """The site configuration of a fresh ledger in `folder`, built by replaying `feeds` with
    the command, or (`read_apart`) in this process, its lines read in a process of their own
    however few they are."""
    folder.mkdir(parents=True, exist_ok=True)
    text = config.read_text().replace(
        "[ledger]\n", f'[ledger]\npath = "{folder}/replayed.sqlite"\n'
    )
    fresh = folder / "replay.toml"
    fresh.write_text(text)
    if read_apart:
        site = site_at(fresh)
        with Ledger(site.config.ledger.path, True) as ledger:
            replay(site, ledger, feeds, fork_above=0)
        return fresh
    args = ["replay", "-c", str(fresh)]
    for feed in feeds:
        args += ["-i", str(feed)]
    done = levy(*args)
    assert done.returncode == 0, done.stderr
    return fresh


def ledger_of(config: Path) -> Path:
    return load_config(config).ledger.path


@dataclass(frozen=True)
class Billed:
    """One meter's billing in a ledger, exact: what its report line rounds. A meter's printed
    line is allocated from its supply's printed total, so it also depends on the other meters;
    these figures depend on the meter alone."""

    metered_mj: int
    deemed: tuple[tuple[int, int, DeemedReason, int], ...]
    """Contiguous deemed rows with one reason merged: (start, end, reason, mJ)."""


def billed(config: Path, meter: str) -> Billed:
    with Ledger(ledger_of(config), writer=False) as ledger:
        metered = sum(
            t.energy_mj
            for t in ledger.bucket_totals(0, 2**62)
            if t.meter == meter and t.reason is None
        )
        spans: list[tuple[int, int, DeemedReason, int]] = []
        for row in ledger.deemed_rows(0, 2**62):
            if row.meter != meter:
                continue
            if spans and spans[-1][1] == row.start_ms and spans[-1][2] == row.reason:
                start, _, reason, mj = spans.pop()
                spans.append((start, row.end_ms, reason, mj + row.energy_mj))
            else:
                spans.append((row.start_ms, row.end_ms, row.reason, row.energy_mj))
    return Billed(metered, tuple(spans))
