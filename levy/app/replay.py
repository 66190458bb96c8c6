"""`replay`: feed recorded messages through the same path as the daemon, then sweep to --until.

A plain recording (mosquitto_sub) is applied in windows of WINDOW lines; the daemon's own archive
carries control lines (see journal.py) and is applied batch by batch, exactly as it was live.
"""

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collector.archive import RawArchive
from collector.feed import FeedError, FeedLine, read_feed
from collector.router import Router
from levy.app.closing import close_month
from levy.app.errors import UsageError
from levy.app.ingest import Message, Tally, ingest
from levy.app.journal import BLIND, CLOSE, CONTROL_PREFIX, SEEING, SWEEP, link_changes
from levy.app.site import Site
from levy.core.engine import Engine
from levy.ledger.store import Ledger

WINDOW = 100_000
"""Lines applied as one batch: delivery order inside a batch does not matter (the engine sorts
it), so a recording reordered within this many lines replays to the same ledger."""


@dataclass
class ReplaySummary:
    lines: int = 0
    malformed: list[tuple[Path, FeedError]] = field(default_factory=list)
    skipped_after_until: int = 0
    tally: Tally = field(default_factory=Tally)
    swept_to_ms: int | None = None


def expand(inputs: Sequence[Path]) -> list[Path]:
    """A folder is read as the daemon's archive: its hourly files in time order, each hour once."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            with RawArchive(path, retention_days=0) as archive:
                files += archive.files()
        else:
            files.append(path)
    return files


def feed_lines(inputs: Sequence[Path], summary: ReplaySummary) -> Iterator[FeedLine]:
    for path in expand(inputs):
        try:
            for item in read_feed(path):
                summary.lines += 1
                if isinstance(item, FeedError):
                    summary.malformed.append((path, item))
                else:
                    yield item
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


@dataclass
class Replayer:
    site: Site
    ledger: Ledger
    engine: Engine
    router: Router
    summary: ReplaySummary
    batch: list[Message] = field(default_factory=list)
    journaled: bool = False

    def flush(self, now_ms: int | None = None) -> None:
        if not self.batch and now_ms is None:
            return
        ingest(self.router, self.engine, self.ledger, self.batch, self.summary.tally, now_ms)
        self.batch = []

    def control(self, line: FeedLine) -> None:
        """A journal line ends the batch, as it did live; a sweep or a close happens at its time."""
        self.journaled = True
        self.flush(line.received_ms if line.topic == SWEEP else None)
        if line.topic in (BLIND, SEEING):
            changes = link_changes(self.engine, line.topic, line.received_ms, line.payload)
            self.ledger.commit(changes)
        if line.topic == CLOSE:
            period = line.payload.decode("utf-8", "replace")
            close_month(self.site, self.ledger, self.engine, period, line.received_ms)


def replay(
    site: Site,
    ledger: Ledger,
    inputs: Sequence[Path],
    from_ms: int | None = None,
    until_ms: int | None = None,
    window: int = WINDOW,
) -> ReplaySummary:
    summary = ReplaySummary()
    lines = feed_lines(inputs, summary)
    first = next(lines, None)
    candidates = [from_ms, site.configured_start_ms(), ledger.accounting_start_ms]
    candidates.append(first.received_ms if first is not None else None)
    start = next((ms for ms in candidates if ms is not None), None)
    engine = site.open_engine(ledger, start)
    config = site.config
    router = Router(config.meters, config.zone, config.daemon.max_payload_bytes)
    run = Replayer(site, ledger, engine, router, summary)
    last_ms: int | None = None
    for line in itertools.chain([first] if first is not None else [], lines):
        if until_ms is not None and line.received_ms > until_ms:
            summary.skipped_after_until += 1
            continue
        last_ms = line.received_ms if last_ms is None else max(last_ms, line.received_ms)
        if line.topic.startswith(CONTROL_PREFIX):
            run.control(line)
            continue
        run.batch.append(Message(line.received_ms, line.topic, line.payload))
        if len(run.batch) >= window:
            run.flush()
    sweep_to = until_ms if until_ms is not None or run.journaled else last_ms
    run.flush(sweep_to)
    summary.swept_to_ms = sweep_to
    return summary
