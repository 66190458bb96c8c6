"""The daemon's exporter in a process of its own (`python -m levy.export.child`).

In the daemon's process, an export pass's Python took the interpreter from the worker, and more
than its own CPU: the worker lets the interpreter go at every SQLite call, and a busy thread
then keeps it for up to a switch interval. Draining a backlog with an export every 10 s ran at
0.70 to 0.78 of a bare client on this project's machine, without one at 0.97 to 1.09.

The exporter only ever read the ledger on connections of its own, so it moves whole: the daemon
asks for a pass every interval (with the devices' availability and whether it is still reading
its backlog, what only the daemon knows), one at a time, and shows on /healthz and /metrics the
state each pass answers with. The child exits once the daemon closes its pipe (or is gone,
however it ended), after the pass it is in, so no orphan writes on. A child that ends alone is
said, and another is started after a wait that doubles while they keep ending before a pass
answers.
"""

import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from multiprocessing.connection import Connection

from collector.child import spawn, wait_or_kill
from levy.app.health import Metrics
from levy.app.site import Site
from levy.config import SiteConfig
from levy.core.model import Availability
from levy.core.units import MS_PER_S
from levy.export.exporter import ExportState, Pass, backed_off_ms
from levy.export.influx import InfluxOutput
from levy.export.output import WriteFailure

log = logging.getLogger("levy.export")

STOP_TIMEOUT_S = 10.0
"""The pass in progress may take this long to end (a write has its own 10 s timeout)."""

Answer = tuple[ExportState, Pass | WriteFailure | None]
"""What the child sends after each pass asked for: the export's state, and how the pass went
(None: not attempted, the last failure asked to wait)."""


def config_without_meters(site: Site) -> SiteConfig:
    """The site's configuration as the exporter needs it: it reads the meters from the ledger,
    and 100,000 of them would take seconds to cross the pipe. The child makes the site of it
    (`Site.from_config`): the core's objects are compiled (setup.py), and do not unpickle."""
    return site.config.model_copy(update={"meters": []})


class ExportProcess:
    def __init__(
        self,
        site: Site,
        output: InfluxOutput,
        reported: Callable[[], Mapping[str, Availability]],
        catching_up: Callable[[], bool],
        metrics: Metrics,
        clock: Callable[[], int],
        log_format: str,
    ) -> None:
        """`reported` gives the devices' own availability, where known; `catching_up`, whether
        the daemon is reading the backlog its broker kept for it (see `Exporter.catching_up`)."""
        self.site = site
        self.output = output
        self.reported = reported
        self.catching_up = catching_up
        self.metrics = metrics
        self.clock = clock
        self.started_ms = clock()
        self.state = ExportState()
        self._log_format = log_format
        self._asks: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._asked = threading.Event()
        """A pass was asked for and has not answered: the next interval asks for none."""
        self._closing = threading.Event()
        config = site.config.influx
        assert config is not None, "an export needs [influx]"
        self._interval_ms = config.interval_s * MS_PER_S
        self._relaunch_at_ms: int | None = None
        """When a child that ended alone is replaced (by the first tick from then on)."""
        self._relaunch_wait_ms = 0

    def launch(self) -> None:
        """Start the child, or another after one that ended alone."""
        if self._asks is not None:
            self._asks.close()
        setup = (config_without_meters(self.site), self.output, self.started_ms, self._log_format)
        self._process, answers, self._asks = spawn("levy.export.child", setup)
        self._asked.clear()
        self._relaunch_at_ms = None
        threading.Thread(target=self._read, args=(answers,), name="export", daemon=True).start()

    def tick(self) -> None:
        """Ask for a pass, unless the last one is still going; after a child that ended alone,
        start another first once its wait is over."""
        if self._relaunch_at_ms is not None:
            if self.clock() < self._relaunch_at_ms:
                return
            self.launch()
        if self._asks is None or self._asked.is_set():
            return
        self._asked.set()
        with contextlib.suppress(OSError):  # gone: its reader says so and sets the relaunch
            self._asks.send((dict(self.reported()), self.catching_up()))

    def close(self) -> None:
        """The child ends its pass and exits once its pipe is closed."""
        self._closing.set()
        if self._asks is not None:
            self._asks.close()
        if self._process is not None:
            wait_or_kill(self._process, STOP_TIMEOUT_S)

    def health(self) -> tuple[list[str], dict[str, object]]:
        """(problems for /healthz's degraded list, the export's details)."""
        return self.state.health(
            self.output.target, self.started_ms, self.clock(), self.site.calendar
        )

    def _read(self, answers: Connection) -> None:
        while True:
            try:
                answer: Answer = answers.recv()
            except (EOFError, OSError):
                self._ended()
                return
            state, outcome = answer
            self.state = state
            self._relaunch_wait_ms = 0
            if isinstance(outcome, Pass):
                self.metrics.export_rows.inc(outcome.rows)
            elif isinstance(outcome, WriteFailure):
                self.metrics.export_errors.labels(outcome.reason).inc()
            self.metrics.export_lag.set(state.lag_s(self.clock(), self.started_ms))
            self._asked.clear()

    def _ended(self) -> None:
        """The child is gone. Closed by the daemon, that is the end; otherwise /healthz says so
        (its last words are in the log) until another answers. The wait before that one starts
        doubles from one interval, up to the export's slowest retry, while they keep ending
        before a pass answers: a child that cannot start is not started every interval."""
        if self._closing.is_set() or self._process is None:
            return
        wait_or_kill(self._process, STOP_TIMEOUT_S)
        wait_ms = self._relaunch_wait_ms = backed_off_ms(self._interval_ms, self._relaunch_wait_ms)
        gone = WriteFailure(
            "exporter",
            f"the export process ended (exit status {self._process.returncode}); another "
            f"starts in {wait_ms // MS_PER_S} s",
        )
        log.error("%s", gone)
        self.metrics.export_errors.labels(gone.reason).inc()
        now = self.clock()
        self.state = replace(
            self.state, failure=gone, failing_since_ms=self.state.failing_since_ms or now
        )
        self._relaunch_at_ms = now + wait_ms
