"""The daemon as systemd runs it (`levy-monitor run` in a process of its own), watched through its
own `/metrics` and `/proc`, for the benchmarks that time it or weigh it."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.live.harness import resident_kib

POLL_S = 0.05


def metric(text: str, name: str) -> float | None:
    """The metric's value, or None while the page does not show it."""
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


class RunningDaemon:
    def __init__(self, config: Path, health_port: int, env: dict[str, str] | None = None) -> None:
        self.log_path = config.parent / "daemon.log"
        self.url = f"http://127.0.0.1:{health_port}/metrics"
        self.started_at = time.perf_counter()
        """perf_counter() just before the process was started: what `wait_for` times from."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "levy", "run", "-c", str(config)],
            stdout=self.log_path.open("a"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def metrics(self) -> str | None:
        """The metrics page, or None while the daemon does not answer yet."""
        if self.process.poll() is not None:
            raise RuntimeError(f"the daemon exited: {self.log_path.read_text()}")
        try:
            with urllib.request.urlopen(self.url, timeout=5) as answer:
                return str(answer.read().decode())
        except OSError:
            return None

    def wait_for(self, name: str, at_least: float, timeout_s: float = 3600) -> float:
        """perf_counter() when the metric first reads `at_least` or more."""
        return self._wait(name, lambda value: value >= at_least, f"reach {at_least}", timeout_s)

    def wait_for_zero(self, name: str, timeout_s: float = 600) -> float:
        """perf_counter() when the metric (shown on the page) first reads 0."""
        return self._wait(name, lambda value: value == 0, "read 0", timeout_s)

    def _wait(self, name: str, test: Callable[[float], bool], what: str, timeout_s: float) -> float:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            text = self.metrics()
            value = None if text is None else metric(text, name)
            if value is not None and test(value):
                return time.perf_counter()
            time.sleep(POLL_S)
        raise RuntimeError(f"{name} did not {what} in {timeout_s} s")

    def resident_mib(self) -> float:
        """Resident memory of the daemon and its MQTT process together."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(pid) for pid in children.read_text().split()]
        return sum(resident_kib(pid) for pid in pids) / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)
