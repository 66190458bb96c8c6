"""`replay`: feed recorded messages through the same path as the daemon, then sweep to --until.

A plain recording (mosquitto_sub) is applied in windows of WINDOW lines; the daemon's own archive
carries control lines (see journal.py) and is applied batch by batch, exactly as it was live.
Either way the batches' changes are committed together, up to COMMIT_LINES lines at a time and
before anything that reads the ledger (a close) or writes it otherwise (the journal's blindness):
the ledger holds what committing batch by batch would, with fewer commits.
"""

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collector.archive import RawArchive
from collector.feed import FeedError, FeedLine, read_feed
from collector.router import Router
from levy.app.closing import close_month
from levy.app.errors import UsageError
from levy.app.ingest import Ignored, Tally, apply_batch
from levy.app.journal import BLIND, CLOSE, CONTROL_PREFIX, SEEING, SWEEP, link_changes
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


def read_items(path: Path) -> Iterator[FeedLine | FeedError]:
    """`read_feed`, with a file that cannot be read (opened or read on) a plain error."""
    try:
        yield from read_feed(path)  # closing this generator closes the file
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def feed_lines(inputs: Sequence[Path], summary: ReplaySummary) -> Iterator[FeedLine]:
    for path in expand(inputs):
        for item in read_items(path):
            summary.lines += 1
            if isinstance(item, FeedError):
                summary.malformed.append((path, item))
            else:
                yield item


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
    router: Router
    summary: ReplaySummary
    batch: list[FeedLine] = field(default_factory=list)
    """The lines themselves: `ingest` reads a `FeedLine` as it reads a daemon's `Message`."""
    journaled: bool = False
    applied: Changes = field(default_factory=Changes)
    """What the batches applied since the last commit changed."""
    logged: list[RejectionRecord] = field(default_factory=list)
    applied_lines: int = 0
    commit_lines: int = COMMIT_LINES

    def flush(self, now_ms: int | None = None) -> None:
        """Apply the batch; its changes are committed with the next ones, up to `commit_lines`
        lines' worth (a meter's row and state written once, not once per batch)."""
        if not self.batch and now_ms is None:
            return
        tally = self.summary.tally
        changes, logged = apply_batch(self.router, self.engine, self.batch, tally, now_ms)
        self.applied.absorb(changes)
        self.logged.extend(logged)
        self.applied_lines += len(self.batch)
        self.batch = []
        if self.applied_lines >= self.commit_lines:
            self.commit()

    def commit(self) -> None:
        self.ledger.commit(self.applied, self.logged)
        self.applied, self.logged, self.applied_lines = Changes(), [], 0

    def control(self, line: FeedLine) -> None:
        """A journal line ends the batch, as it did live; a sweep or a close happens at its time."""
        self.journaled = True
        self.summary.journal += 1
        if line.topic == SWEEP:
            self.flush(line.received_ms)
            swept = self.summary.swept_to_ms
            self.summary.swept_to_ms = max(line.received_ms, swept or line.received_ms)
        else:
            self.flush()
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
) -> ReplaySummary:
    summary = ReplaySummary()
    lines = feed_lines(inputs, summary)
    first = next(lines, None)
    if first is None:
        raise UsageError(f"{named(inputs)} holds no messages")
    candidates = [from_ms, site.configured_start_ms(), ledger.accounting_start_ms]
    candidates.append(first.received_ms)
    start = next((ms for ms in candidates if ms is not None), None)
    engine = site.open_engine(ledger, start)
    config = site.config
    router = Router(config.meters, config.zone, config.daemon.max_payload_bytes)
    run = Replayer(site, ledger, engine, router, summary, commit_lines=commit_lines)
    last_ms: int | None = None
    for line in itertools.chain([first], lines):
        received_ms = line.received_ms
        if until_ms is not None and received_ms > until_ms:
            summary.skipped_after_until += 1
            continue
        if last_ms is None or received_ms > last_ms:
            last_ms = received_ms
        if line.topic.startswith(CONTROL_PREFIX):
            run.control(line)
            continue
        run.batch.append(line)
        if len(run.batch) >= window:
            run.flush()
    if until_ms is not None or not run.journaled:
        summary.swept_to_ms = until_ms if until_ms is not None else last_ms
        run.flush(summary.swept_to_ms)
    else:
        run.flush()  # the daemon's archive: its own journaled sweeps, no more
    run.commit()
    return summary
