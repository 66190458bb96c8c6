"""`replay`: feed recorded messages through the same path as the daemon, then sweep to --until.

A plain recording (mosquitto_sub) is applied in windows of WINDOW lines; the daemon's own archive
carries control lines (see journal.py) and is applied batch by batch, exactly as it was live.
Either way the batches' changes are committed together, up to COMMIT_LINES lines at a time and
before anything that reads the ledger (a close) or writes it otherwise (the journal's blindness):
the ledger holds what committing batch by batch would, with fewer commits. The lines are read
and routed by `routed_feed`: for a large input, in a process of its own beside the engine.
"""

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collector.archive import RawArchive
from collector.feed import FeedError, FeedLine
from collector.router import Router
from levy.app.closing import close_month
from levy.app.errors import UsageError
from levy.app.ingest import Delivered, Ignored, Routed, Tally, apply_routed
from levy.app.journal import BLIND, CLOSE, SEEING, SWEEP, link_changes
from levy.app.routed_feed import (
    FORK_ABOVE_BYTES,
    Control,
    FeedEnd,
    RoutedBatch,
    Start,
    read_items,
    routed_feed,
)
from levy.app.site import Site
from levy.core.engine import Changes, Engine
from levy.ledger.rejections import RejectionRecord
from levy.ledger.store import Ledger

WINDOW = 100_000
"""Lines applied as one batch: delivery order inside a batch does not matter (the engine sorts
it), so a recording reordered within this many lines replays to the same ledger."""
COMMIT_LINES = 1_000_000
"""Lines whose batches are committed together (bounding what waits: rows and states one per
meter, rejections one per line)."""


@dataclass
class ReplaySummary:
    """What a replay read, every line counted exactly once: `lines` is the sum of `terms()`."""

    lines: int = 0
    malformed: list[tuple[Path, FeedError]] = field(default_factory=list)
    skipped_after_until: int = 0
    journal: int = 0
    """Control lines of the daemon's archive (batch ends, sweeps, closes, blind spans)."""
    tally: Tally = field(default_factory=Tally)
    swept_to_ms: int | None = None
    """Where the last sweep accounted every meter to: --until, the last line's receive time, or
    for the daemon's archive its last journaled sweep (None if it journals none)."""

    def ignored(self) -> Counter[Ignored]:
        """Lines that are neither accepted nor rejected, by kind."""
        kinds = Counter(self.tally.messages_ignored)
        if self.skipped_after_until:
            kinds[Ignored.AFTER_UNTIL] = self.skipped_after_until
        return kinds

    def terms(self) -> list[tuple[str, int]]:
        """The parts `lines` is made of; `journal` only where there is one."""
        terms = [
            ("accepted", self.tally.messages_accepted),
            ("rejected", self.tally.messages_rejected.total()),
            ("ignored", self.ignored().total()),
            ("malformed", len(self.malformed)),
        ]
        if self.journal:
            terms.append(("journal", self.journal))
        return terms


def archive_files(folder: Path) -> list[Path]:
    """The daemon's archive in `folder`: its hourly files in time order, each hour once. A
    folder without any is refused: it is not the archive it was taken for."""
    try:
        with RawArchive(folder, retention_days=0) as archive:
            files = archive.files()
    except OSError as exc:
        raise UsageError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    if not files:
        raise UsageError(
            f"{folder} holds no archive files (the daemon's hourly YYYY-MM-DDTHH.jsonl and "
            ".jsonl.gz): nothing to replay"
        )
    return files


def files_of(path: Path) -> list[Path]:
    """A folder is read as the daemon's archive, anything else as one recorded feed."""
    return archive_files(path) if path.is_dir() else [path]


def expand(inputs: Sequence[Path]) -> list[Path]:
    return [file for path in inputs for file in files_of(path)]


def named(inputs: Sequence[Path]) -> str:
    return ", ".join(str(path) for path in inputs)


@dataclass
class _Scan:
    """What `check_inputs` has seen so far."""

    from_ms: int | None
    until_ms: int | None
    in_window: bool = False
    earliest_ms: int | None = None
    latest_ms: int | None = None

    def see(self, received_ms: int) -> None:
        if self.earliest_ms is None or received_ms < self.earliest_ms:
            self.earliest_ms = received_ms
        if self.latest_ms is None or received_ms > self.latest_ms:
            self.latest_ms = received_ms
        if (self.from_ms is None or received_ms >= self.from_ms) and (
            self.until_ms is None or received_ms <= self.until_ms
        ):
            self.in_window = True


def check_inputs(
    inputs: Sequence[Path],
    from_ms: int | None,
    until_ms: int | None,
    iso: Callable[[int], str],
) -> None:
    """The mistakes a replay can see in its input before it touches the ledger: `--until` not
    after `--from`, an input that cannot be read, a folder with no archive files, an input
    without one readable line, no line between `--from` and `--until`. Reads each input up to
    its first readable line, and until a line within the window is found."""
    if from_ms is not None and until_ms is not None and until_ms <= from_ms:
        raise UsageError(f"--until {iso(until_ms)} is not after --from {iso(from_ms)}")
    scan = _Scan(from_ms, until_ms)
    for path in inputs:
        files = files_of(path)
        readable, malformed, first_problem = False, 0, None
        for item in itertools.chain.from_iterable(map(read_items, files)):
            if isinstance(item, FeedError):
                malformed += 1
                first_problem = first_problem or item
                continue
            readable = True
            scan.see(item.received_ms)
            if scan.in_window:
                break
        if not readable:
            hours = f"{len(files)} archive file{'s' if len(files) > 1 else ''}"
            where = f"{path} ({hours})" if path.is_dir() else str(path)
            if first_problem is None:
                raise UsageError(f"{where} holds no messages: it is empty")
            lines = f"all its {malformed} lines are" if malformed > 1 else "its one line is"
            raise UsageError(
                f"{where} holds no messages: {lines} malformed (line {first_problem.line_no}: "
                f"{first_problem.problem})"
            )
    if not scan.in_window:
        assert scan.earliest_ms is not None and scan.latest_ms is not None
        if from_ms is not None and until_ms is not None:
            window = f"between --from {iso(from_ms)} and --until {iso(until_ms)}"
        elif from_ms is not None:
            window = f"at or after --from {iso(from_ms)}"
        else:
            assert until_ms is not None
            window = f"at or before --until {iso(until_ms)}"
        raise UsageError(
            f"no line of {named(inputs)} is {window}: its lines run from "
            f"{iso(scan.earliest_ms)} to {iso(scan.latest_ms)}"
        )


@dataclass
class Replayer:
    site: Site
    ledger: Ledger
    engine: Engine
    summary: ReplaySummary
    commit_lines: int = COMMIT_LINES
    journaled: bool = False
    applied: Changes = field(default_factory=Changes)
    """What the batches applied since the last commit changed."""
    logged: list[RejectionRecord] = field(default_factory=list)
    applied_lines: int = 0

    def apply(self, batch: RoutedBatch) -> None:
        """Apply a batch; its changes are committed with the next ones, up to `commit_lines`
        lines' worth (a meter's row and state written once, not once per batch)."""
        self._apply(batch.lines, batch.routed)
        self.applied_lines += len(batch.lines)
        if self.applied_lines >= self.commit_lines:
            self.commit()

    def sweep(self, now_ms: int) -> None:
        self._apply([], Routed([], [], [], []), now_ms)

    def _apply(self, lines: Sequence[Delivered], routed: Routed, now_ms: int | None = None) -> None:
        tally = self.summary.tally
        _, logged = apply_routed(self.engine, lines, routed, tally, now_ms, self.applied)
        self.logged.extend(logged)

    def commit(self) -> None:
        self.ledger.commit(self.applied, self.logged)
        self.applied, self.logged, self.applied_lines = Changes(), [], 0

    def control(self, line: FeedLine) -> None:
        """A journal line ends the batch, as it did live; a sweep or a close happens at its time."""
        self.journaled = True
        self.summary.journal += 1
        if line.topic == SWEEP:
            self.sweep(line.received_ms)
            swept = self.summary.swept_to_ms
            self.summary.swept_to_ms = max(line.received_ms, swept or line.received_ms)
        if line.topic in (BLIND, SEEING, CLOSE):
            self.commit()
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
    commit_lines: int = COMMIT_LINES,
    fork_above: int = FORK_ABOVE_BYTES,
) -> ReplaySummary:
    """`fork_above`: the input size from which its lines are read and routed in a process of
    their own (see `routed_feed`)."""
    config = site.config
    summary = ReplaySummary()

    def router() -> Router:
        return Router(config.meters, config.zone, config.daemon.max_payload_bytes)

    run: Replayer | None = None
    end = FeedEnd()
    for event in routed_feed(expand(inputs), router, window, until_ms, fork_above):
        if isinstance(event, Start):
            candidates = [from_ms, site.configured_start_ms(), ledger.accounting_start_ms]
            start = next((ms for ms in candidates if ms is not None), event.received_ms)
            engine = site.open_engine(ledger, start)
            run = Replayer(site, ledger, engine, summary, commit_lines)
        elif isinstance(event, FeedEnd):
            end = event
        else:
            assert run is not None
            if isinstance(event, Control):
                run.control(event.line)
            else:
                run.apply(event)
    summary.lines, summary.malformed = end.lines, end.malformed
    summary.skipped_after_until = end.skipped_after_until
    if run is None:
        raise UsageError(f"{named(inputs)} holds no messages")
    if until_ms is not None or not run.journaled:
        summary.swept_to_ms = until_ms if until_ms is not None else end.last_ms
        assert summary.swept_to_ms is not None
        run.sweep(summary.swept_to_ms)
    run.commit()
    return summary
