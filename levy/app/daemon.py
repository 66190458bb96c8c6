"""`levy-monitor run`: the live daemon. Composes the MQTT intake, the engine worker, the archive,
the scheduler and the health endpoint, and takes them down in order on SIGTERM or SIGINT."""

import contextlib
import logging
import os
import shutil
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from collector.archive import ArchiveError, RawArchive
from collector.mqtt import (
    BrokerSettings,
    FatalConnectionError,
    LinkEvent,
)
from collector.mqtt_process import MqttProcess
from collector.router import Router
from levy.app.broker import broker_settings
from levy.app.errors import UsageError
from levy.app.health import DEGRADED, HealthServer, Metrics, Status
from levy.app.heap import settled_heap
from levy.app.inbox import Inbox
from levy.app.journal import START, decode_position
from levy.app.logs import LOG_FORMAT
from levy.app.retention import closed_long_enough
from levy.app.site import Site
from levy.app.worker import Tick, TickKind, Worker, wall_clock_ms
from levy.config import SiteConfig
from levy.export.influx import InfluxOutput
from levy.export.process import ExportProcess
from levy.ledger.store import COMPANIONS, Ledger

log = logging.getLogger("levy.daemon")
logging.getLogger("apscheduler").setLevel(logging.WARNING)
"""Its INFO lines (every job run) would drown the daemon's own."""


def schedule(
    inbox: Inbox[Tick | LinkEvent], source: MqttProcess, config: SiteConfig
) -> BackgroundScheduler:
    """The scheduler only queues ticks: the worker does the work, in order with the messages.
    A sweep waits for the messages the broker holds for us when it is due (rule 6): a daemon
    behind its feed would otherwise deem meters silent whose readings it has not read yet."""
    scheduler = BackgroundScheduler(timezone=UTC)

    def sweep() -> None:
        source.mark(wall_clock_ms())

    def rotate() -> None:
        inbox.put(Tick(TickKind.ROTATE, wall_clock_ms()))

    scheduler.add_job(sweep, "interval", seconds=config.daemon.sweep_interval_s)
    scheduler.add_job(rotate, "cron", minute=1)
    return scheduler


def schedule_export(
    scheduler: BackgroundScheduler, exporter: ExportProcess, interval_s: int
) -> None:
    """Asked for from the scheduler's own thread, and done in the export's process: a slow or
    absent database does not hold up a reading, nor does the export's Python."""
    scheduler.add_job(
        exporter.tick, "interval", seconds=interval_s, next_run_time=datetime.now(UTC)
    )


def with_export(status: Status, exporter: ExportProcess | None) -> Status:
    """The worker's health, with the export's state and its failure among the degradations."""
    if exporter is None:
        return status

    def combined() -> tuple[bool, dict[str, Any]]:
        healthy, details = status()
        problems, details["export"] = exporter.health()
        if problems:
            details[DEGRADED] = [*details.get(DEGRADED, []), *problems]
        return healthy, details

    return combined


def refuse_a_lost_ledger(config: SiteConfig) -> None:
    """A missing ledger beside an archive that holds a journal was lost, not never made:
    starting afresh would deem everything since the accounting start."""
    if config.ledger.path.exists() or not config.archive.dir.exists():
        return
    with RawArchive(config.archive.dir, retention_days=0) as existing:
        if existing.files():
            raise UsageError(
                f"there is no ledger at {config.ledger.path} but the archive {config.archive.dir} "
                "holds the journal of one: restore the ledger, or rebuild it with "
                f"`levy-monitor replay -i {config.archive.dir}` and start again"
            )


def claim_health_port(config: SiteConfig, metrics: Metrics) -> HealthServer | None:
    """Bound before anything is created, so a port in use stops the daemon with one line and
    leaves no ledger behind (and exit 2 stops systemd restarting it in vain)."""
    host, port = config.daemon.health_host, config.daemon.health_port
    if not port:
        return None
    try:
        return HealthServer(host, port, metrics, starting)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(
            f"the health port {host}:{port} cannot be used ({reason}): another "
            "levy-monitor may be running; set [daemon] health_port to a free port (0 turns it off)"
        ) from None


def starting() -> tuple[bool, dict[str, Any]]:
    return False, {"starting": True}


def missing_root(path: Path) -> Path | None:
    """The highest folder on the way to `path` (or `path` itself) that does not exist yet."""
    if path.exists():
        return None
    root = path
    while not root.parent.exists():
        root = root.parent
    return root


def remove_made(roots: list[Path]) -> None:
    """Take away what a start refused on bad input made where nothing was: a ledger (with its
    companions) and an archive that hold nothing but their creation."""
    for root in roots:
        if root.is_dir():
            shutil.rmtree(root, ignore_errors=True)
        for suffix in ("", *COMPANIONS):
            Path(f"{root}{suffix}").unlink(missing_ok=True)


def run_daemon(site: Site) -> int:
    config = site.config
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    refuse_a_lost_ledger(config)
    settings = broker_settings(config.mqtt, config.mqtt.resolve_password())
    config.evidence.signer()  # a key that cannot sign stops the start, not a month's close
    output = None if config.influx is None else InfluxOutput(config.influx)
    metrics = Metrics()
    health = claim_health_port(config, metrics)
    if health is not None:
        health.start()
    made = [r for r in map(missing_root, (config.ledger.path, config.archive.dir)) if r]
    try:
        return run_site(site, settings, output, metrics, health, stopping)
    except UsageError:
        remove_made(made)
        raise
    finally:
        if health is not None:
            health.stop()


def run_site(
    site: Site,
    settings: BrokerSettings,
    output: InfluxOutput | None,
    metrics: Metrics,
    health: HealthServer | None,
    stopping: threading.Event,
) -> int:
    """Everything after the secrets and the health port: ledger, archive, engine, MQTT,
    scheduler, and the worker until `stopping`. A UsageError comes before the worker runs."""
    config = site.config
    with contextlib.ExitStack() as stack:
        inbox: Inbox[Tick | LinkEvent] = Inbox(config.daemon.queue_max)
        ledger = stack.enter_context(Ledger(config.ledger.path))
        # the ledger's lock first: a second daemon on the same ledger must not take over the
        # first one's MQTT session before it is refused
        source = MqttProcess(settings, inbox, LOG_FORMAT)
        source.launch()
        stack.callback(source.stop)  # a start refused below leaves no child behind
        archive = stack.enter_context(
            RawArchive(
                config.archive.dir,
                config.archive.retention_days,
                closed_long_enough(
                    ledger.closed_periods, config.archive.keep_closed_years, wall_clock_ms
                ),
            )
        )
        try:
            archive.recover(decode_position(ledger.meta("journal")))
        except ArchiveError as exc:
            raise UsageError(f"archive {config.archive.dir}: {exc}") from exc
        new_ledger = ledger.accounting_start_ms is None
        start = site.configured_start_ms() or ledger.accounting_start_ms or wall_clock_ms()
        engine = site.open_engine(ledger, start)
        if new_ledger:
            archive.append([(start, START, b"")])
        router = Router(config.meters, config.zone, config.daemon.max_payload_bytes)
        worker = Worker(site, ledger, engine, router, archive, source, inbox, metrics, stopping)
        worker.go_blind(max(ledger.clock_ms, ledger.accounting_start_ms or 0), wall_clock_ms())
        try:
            source.start()
        except FatalConnectionError as exc:
            raise UsageError(str(exc)) from exc
        exporter = None
        if output is not None:
            exporter = ExportProcess(
                site,
                output,
                worker.availability.copy,
                worker.catching_up,
                metrics,
                wall_clock_ms,
                LOG_FORMAT,
            )
            exporter.launch()
            stack.callback(exporter.close)
        scheduler = schedule(inbox, source, config)
        if exporter is not None and config.influx is not None:
            schedule_export(scheduler, exporter, config.influx.interval_s)
        scheduler.start()
        if health is not None:
            health.status = with_export(worker.health, exporter)
        log.info("site %s: %d meters, ledger %s", site.id, len(engine.specs), config.ledger.path)
        try:
            with settled_heap():
                worker.run()
        finally:
            scheduler.shutdown(wait=False)
    log.info("stopped")
    return 0
