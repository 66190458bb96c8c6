"""The raw archive: every received message, rejected ones too, kept as the evidence a replay
rebuilds the ledger from.

Files are hourly, named by UTC hour (`2026-11-24T23.jsonl`), one `format_feed_line` line per
message, so `read_feed` replays them as they are; closed hours are gzipped (`.jsonl.gz`). An hour
older than `retention_days` is deleted only if the caller's `may_delete` guard allows it: the
archive is the evidence an inspector re-runs to reproduce a filed figure, so by default nothing is
ever deleted, and the daemon's guard keeps every hour of a month that is not closed or was closed
fewer than `[archive] keep_closed_years` ago (levy.app.retention).

The archive is a journal kept in step with the ledger. The engine worker appends each batch
(fsynced) before it commits the ledger transaction for that batch, and that transaction stores
the `ArchivePosition` the append returned. If the daemon dies in between, the broker redelivers
the batch, so at start-up `recover` cuts the archive back to the committed position and the
batch is not journaled twice. Replaying the files in order, line by line, therefore feeds the
engine exactly what the daemon processed, sweep ticks (topic `$levy/sweep`) included.

The journal's order is the files' order, then the lines' order, so the archive never appends to
a file earlier than the newest one: a record stamped in an earlier hour (the clock was stepped
back) goes into the newest file. That newest file is the one `append` writes to and the one the
ledger's position points into; `rotate` neither compresses nor deletes it.

Files are created 0640 and the folder 0750 (the daemon's umask is 027 as well): the evidence is
not for every account on the host.

A file or folder that vanishes while the daemon runs (deleted, moved, replaced) is noticed at
the next `append` or `rotate`: logged as an ERROR naming it, the folder recreated, a fresh file
started, and `damaged` says what happened (the daemon's /healthz reports it as degraded). The
lines the vanished file held are gone from the evidence; the README says how to go on.

Not thread-safe, and needs no lock: one thread, the engine worker, calls every method, rotate
included (the scheduler posts rotate requests into the worker's queue), and calls `rotate` only
between batches, after the ledger commit, never between an `append` and its commit.
"""

import gzip
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from collector.feed import format_feed_line
from levy.core.units import MS_PER_HOUR, datetime_to_ms, ms_to_datetime

log = logging.getLogger(__name__)

COMPRESSION_GRACE_S = 10.0
"""How long closing the archive waits for a compression still running in the background."""

PLAIN = ".jsonl"
MS_PER_DAY = 86_400_000
_HOUR_FORMAT = "%Y-%m-%dT%H"
_NAME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d)\.jsonl(\.gz)?")
FILE_MODE = 0o640
FOLDER_MODE = 0o750
_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
_COMPRESS_LEVEL = 6
"""zlib's own default: nearly the size of level 9 at a fraction of the time, which matters
because rotation runs on the engine worker."""

Record = tuple[int, str, bytes]
"""`(received_ms, topic, payload)` of one message, or of a sweep tick."""

DeletionGuard = Callable[[int, int], bool]
"""Asked `(start_ms, end_ms)`, a file's UTC hour, once the file is past the retention: True
lets it be deleted."""


def keep_everything(start_ms: int, end_ms: int) -> bool:
    """The default guard: no file is ever deleted."""
    return False


@dataclass(frozen=True, slots=True)
class ArchivePosition:
    """The end of the archive after a batch: `file` (a name inside the archive folder) and the
    byte `offset` after its last line. The ledger commits it with the batch."""

    file: str
    offset: int


class ArchiveError(Exception):
    """The archive does not hold what the ledger's committed position says it holds (another
    site's folder, an older ledger restored from a backup, files edited by hand). The daemon
    should refuse to start: cutting the archive back on a guess would destroy evidence."""


@dataclass(frozen=True, slots=True, order=True)
class _File:
    hour: int
    """UTC epoch hours."""
    compressed: bool
    path: Path


class RawArchive:
    """The archive folder, created if missing. A file whose hour ended more than `retention_days`
    ago is deleted only if `may_delete` says so; `retention_days` 0 or the default guard keeps
    files forever."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        retention_days: int,
        may_delete: DeletionGuard = keep_everything,
    ) -> None:
        self.directory = Path(directory)
        self.retention_days = retention_days
        self.may_delete = may_delete
        self.directory.mkdir(FOLDER_MODE, parents=True, exist_ok=True)
        self._compressing: threading.Thread | None = None
        self.damaged: str | None = None
        """What vanished from under the archive while it ran (the latest such problem), None
        while nothing did."""
        self.losses = 0
        """How many times a file or the folder vanished."""
        self._handle: BinaryIO | None = None
        self._hour = _append_hour(_scan(self.directory))
        """The hour of the file new lines go to at the earliest, None while the folder is empty."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
        self.wait_for_compression(COMPRESSION_GRACE_S)

    def close(self) -> None:
        """Release the open file; the next append reopens it."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def position(self) -> ArchivePosition | None:
        """The end of the newest file, None if nothing has been written."""
        if self._hour is None:
            return None
        path = self._path(self._hour)
        try:
            return ArchivePosition(path.name, path.stat().st_size)
        except FileNotFoundError:
            return None

    def append(self, records: Iterable[Record]) -> ArchivePosition | None:
        """Journal a batch, durably, before the ledger commits it: one write and one fsync per
        file (two files when the batch crosses an hour). Returns the position to commit; an
        empty batch changes nothing and returns the current one.

        If this raises, a file may end in part of a batch: call `recover` with the ledger's
        last committed position before appending again.
        """
        self._check()
        for hour, lines in self._lines_by_hour(records).items():
            self._write(hour, lines)
        return self.position

    def recover(self, committed: ArchivePosition | None) -> None:
        """At start-up, drop what was journaled after the ledger's last commit: the broker
        redelivers those messages. Truncates the committed file to its offset and removes the
        files of later hours.

        `None` (a fresh ledger) removes nothing: the operator may be starting a new ledger
        beside an existing archive on purpose, so the files are kept and a warning says so.
        Raises ArchiveError if the archive doesn't hold the committed position, or holds
        compressed files after it (they were rotated, so a later batch was committed: the
        ledger is older than the archive).
        """
        self.close()
        if committed is None:
            self._warn_if_not_empty()
        else:
            self._cut_back_to(committed)

    def rotate(self, now_ms: int) -> None:
        """Delete the files whose hour ended more than `retention_days` before `now_ms` and that
        `may_delete` lets go, and gzip every other closed file: all but the newest, which is still
        appended to.

        Each file is compressed into `.tmp`, fsynced, renamed, and only then is the plain file
        removed, so a crash at any point leaves the plain file or a complete `.gz`; the next
        rotate finishes the job.
        """
        self._check()
        for plain in self._retire(now_ms):
            _compress(plain)

    def rotate_in_background(self, now_ms: int) -> None:
        """`rotate`, with the compression on a thread of its own: gzipping an hour of a large
        site takes seconds the writer should spend on readings. Safe beside `append`, which never
        goes back to an hour before the newest; skipped while the last one still runs."""
        if self._compressing is not None and self._compressing.is_alive():
            return
        self._check()
        plains = self._retire(now_ms)
        if plains:
            self._compressing = threading.Thread(
                target=_compress_all, args=(plains,), name="archive-gzip", daemon=True
            )
            self._compressing.start()

    def _retire(self, now_ms: int) -> list[Path]:
        """Deletes the expired hours and returns the closed plain files to compress."""
        for leftover in self.directory.glob(f"*{PLAIN}.gz.tmp"):
            leftover.unlink()
        plains = []
        for closed in _scan(self.directory):
            if closed.hour == self._hour:
                continue
            if self._expired(closed.hour, now_ms) and self.may_delete(
                closed.hour * MS_PER_HOUR, (closed.hour + 1) * MS_PER_HOUR
            ):
                closed.path.unlink()
                log.info("archive: deleted %s, older than the retention", closed.path.name)
            elif not closed.compressed:
                plains.append(closed.path)
        return plains

    def wait_for_compression(self, timeout_s: float) -> None:
        """On the way out: a compression cut short leaves its plain file for the next rotate."""
        if self._compressing is not None:
            self._compressing.join(timeout_s)

    def files(self) -> list[Path]:
        """Every archive file in time order, for replay. An hour with both a plain and a `.gz`
        file (a rotation stopped between its rename and its unlink) is listed once, by its
        plain file: both hold the same lines."""
        by_hour: dict[int, Path] = {}
        for file in _scan(self.directory):
            by_hour.setdefault(file.hour, file.path)
        return list(by_hour.values())

    def _lines_by_hour(self, records: Iterable[Record]) -> dict[int, list[str]]:
        """The batch's lines per file hour, the hours ascending (a dict keeps insertion order)
        because a record is never filed before the hour the previous one went to."""
        by_hour: dict[int, list[str]] = {}
        hour = self._hour if self._hour is not None else 0
        for received_ms, topic, payload in records:
            hour = max(hour, received_ms // MS_PER_HOUR)
            by_hour.setdefault(hour, []).append(format_feed_line(received_ms, topic, payload))
        return by_hour

    def _write(self, hour: int, lines: list[str]) -> None:
        handle = self._open(hour)
        # surrogateescape: a topic decoded that way is written back as its original bytes,
        # which read_feed decodes the same way.
        handle.write("".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape"))
        handle.flush()
        os.fsync(handle.fileno())

    def _open(self, hour: int) -> BinaryIO:
        if self._handle is None or hour != self._hour:
            self.close()
            path = self._path(hour)
            created = not path.exists()
            self._handle = os.fdopen(os.open(path, _APPEND_FLAGS, FILE_MODE), "ab")
            if created:
                _fsync_directory(self.directory)
            self._hour = hour
        return self._handle

    def _check(self) -> None:
        """Notice a folder or file that vanished since the last append: say so, and make the
        archive writable again (a fresh folder, a fresh file on the next write)."""
        problem = self._vanished()
        if problem is None:
            return
        self.damaged = problem
        self.losses += 1
        log.error(
            "archive: %s; the lines it held are gone from the evidence, and a replay of the "
            "archive no longer rebuilds the ledger. A fresh file is started; restore the lost "
            "files from a backup if there is one (README: 'When the archive loses files')",
            problem,
        )
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if not self.directory.is_dir():
            self.directory.mkdir(FOLDER_MODE, parents=True, exist_ok=True)
            _fsync_directory(self.directory.parent)

    def _vanished(self) -> str | None:
        if not self.directory.is_dir():
            return f"the folder {self.directory} vanished while the daemon was writing to it"
        if self._handle is None or self._hour is None:
            return None  # nothing written since (re)opening: nothing to miss
        path = self._path(self._hour)
        try:
            named = path.stat()
        except FileNotFoundError:
            return f"the file {path} vanished while the daemon was writing to it"
        held = os.fstat(self._handle.fileno())
        if (held.st_ino, held.st_dev) != (named.st_ino, named.st_dev):
            return f"the file {path} was replaced while the daemon was writing to it"
        return None

    def _cut_back_to(self, committed: ArchivePosition) -> None:
        end = _parse(self.directory / committed.file)
        if end is None or end.compressed or end.path.name != committed.file:
            raise ArchiveError(f"{committed.file!r} is not an uncompressed archive file's name")
        later = [file for file in _scan(self.directory) if file.hour > end.hour]
        if any(file.compressed for file in later):
            raise ArchiveError(
                f"{self.directory} holds compressed files after {committed.file}, the ledger's "
                "last position: the ledger is older than the archive"
            )
        _truncate(end.path, committed.offset)
        for file in later:
            file.path.unlink()
            log.warning("archive: removed %s, written after the last commit", file.path.name)
        if later:
            _fsync_directory(self.directory)
        self._hour = end.hour

    def _warn_if_not_empty(self) -> None:
        if count := len(self.files()):
            log.warning(
                "archive: the ledger has no archive position yet, but %s holds %d files; they "
                "are kept, and a replay of the whole archive would replay them too",
                self.directory,
                count,
            )

    def _expired(self, hour: int, now_ms: int) -> bool:
        end_ms = (hour + 1) * MS_PER_HOUR
        return self.retention_days > 0 and end_ms + self.retention_days * MS_PER_DAY < now_ms

    def _path(self, hour: int) -> Path:
        return self.directory / (ms_to_datetime(hour * MS_PER_HOUR).strftime(_HOUR_FORMAT) + PLAIN)


def _scan(directory: Path) -> list[_File]:
    """The archive files in the folder, by hour, an hour's plain file before its `.gz`; other
    files (`.tmp` leftovers, anything an operator put there) are not the archive's."""
    return sorted(file for path in directory.iterdir() if (file := _parse(path)) is not None)


def _parse(path: Path) -> _File | None:
    """The archive file at `path`, None if its name is not an archive file's."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    try:
        start = datetime.strptime(match[1], _HOUR_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # the shape of a name, not a real hour
        return None
    return _File(datetime_to_ms(start) // MS_PER_HOUR, match[2] is not None, path)


def _append_hour(files: list[_File]) -> int | None:
    """The newest file's hour, or the next one when it is compressed already (only a hand
    outside the archive makes that so): appending to a `.gz` would corrupt it."""
    if not files:
        return None
    newest = files[-1]
    return newest.hour + 1 if newest.compressed else newest.hour


def _truncate(path: Path, offset: int) -> None:
    """Cut `path` to `offset`, after checking the ledger's position is a line end in it."""
    try:
        with open(path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if offset < 0 or size < offset:
                raise ArchiveError(f"{path} holds {size} bytes; the ledger's position is {offset}")
            if offset > 0:
                handle.seek(offset - 1)
                if handle.read(1) != b"\n":
                    raise ArchiveError(
                        f"the ledger's position {offset} is not a line end in {path}"
                    )
            if size > offset:
                handle.truncate(offset)
                os.fsync(handle.fileno())
                log.warning("archive: cut %d uncommitted bytes off %s", size - offset, path.name)
    except FileNotFoundError:
        raise ArchiveError(
            f"{path}, where the ledger's last batch ended, is missing: is this the right archive?"
        ) from None


def _compress_all(plains: list[Path]) -> None:
    for plain in plains:
        try:
            _compress(plain)
        except OSError as exc:
            log.error(
                "archive: compressing %s failed (%s); the next rotation tries again", plain, exc
            )


def _compress(plain: Path) -> None:
    packed = plain.with_name(plain.name + ".gz")
    partial = plain.with_name(plain.name + ".gz.tmp")
    target_fd = os.open(partial, _CREATE_FLAGS, FILE_MODE)
    with open(plain, "rb") as source, os.fdopen(target_fd, "wb") as target:
        with gzip.GzipFile(plain.name, "wb", _COMPRESS_LEVEL, fileobj=target) as zipped:
            shutil.copyfileobj(source, zipped, 1 << 20)
        target.flush()
        os.fsync(target.fileno())
    os.replace(partial, packed)
    _fsync_directory(plain.parent)  # the rename must be durable before the original goes
    plain.unlink()


def _fsync_directory(directory: Path) -> None:
    """Make a created, renamed or removed name durable, not only the file's bytes."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
