"""Replay's reading and routing: the inputs' lines cut into the batches the replay applies, each
routed, in order with the daemon's journal lines; then how many lines there were of each kind.

A large input is read and routed in a process of its own, forked once the configuration is
loaded, so that reading and routing run on one core while the engine and the ledger run on the
other; where the router allows, the engine's process routes part of each batch, so that neither
core waits for the other (`routing_balance`), and the reading process's router observes that
part (a Shelly's status is kept for the partial frames that follow it). It runs the same
generator and sends what it yields, so a replay is the same either way.
"""

import contextlib
import fcntl
import itertools
import os
import pickle
import queue
import signal
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from collector.feed import GZIP_MAGIC, FeedError, FeedLine, read_feed
from collector.message import Message
from collector.router import Router
from levy.app.errors import UsageError
from levy.app.ingest import Delivered, Routed, observe_rest, route_batch
from levy.app.journal import CONTROL_PREFIX
from levy.app.routing_balance import Balance

FORK_ABOVE_BYTES = 16 * 1024 * 1024
"""Inputs at least this large (about 100,000 lines) are read in a process of their own: below
it, starting one costs more than it saves."""
AHEAD = 4
"""Messages the reading process may have sent ahead of the engine (two a batch)."""
PIPE_BYTES = 1 << 20
"""The pipe's buffer (Linux's default 64 KiB; 1 MiB is what an unprivileged process may ask).
The thread that empties it needs the interpreter back after every read, which the engine holds
for up to a switch interval (5 ms), or compiled (setup.py) for the whole of a batch it applies: a
batch of 100,000 lines (15 MB) took 0.8 s to cross in 64 KiB reads, and the reading process
waited for it before routing its part. (A socket read in one call, without the interpreter, made
no difference to a compiled replay: measured in the tenth session.)"""
T = TypeVar("T", str, bytes)
Item = TypeVar("Item")


class Start(NamedTuple):
    """The first line's receive time: the accounting starts there when nothing earlier says."""

    received_ms: int


class Lines(list[FeedLine]):
    """A batch's lines as `events` reads them: a list, which crosses to the engine's process as
    columns, topics and payloads each joined into one (see `Packed`), and arrives as messages
    made only when asked for (`_Columns`), not as an object per line to pickle and load."""

    def __reduce__(self) -> tuple[type["_Columns"], tuple[object, ...]]:
        topics, payloads = [line.topic for line in self], [line.payload for line in self]
        return _Columns, ([line.received_ms for line in self], packed(topics), packed(payloads))


@dataclass(slots=True)
class RoutedBatch:
    lines: Sequence[Delivered]
    """The feed's lines (`Lines`); from the reading process, their messages."""
    routed: Routed


class BatchLines(NamedTuple):
    """What the reading process sends of a batch before routing it, where the engine's process
    routes part of it (`routing_balance`): its lines, and how many of them it routes itself, so
    that the engine's process routes the rest meanwhile. `BatchRouted` follows."""

    lines: Sequence[Delivered]
    routed_to: int


class BatchRouted(NamedTuple):
    """The reading process's part of the batch its `BatchLines` sent, routed."""

    routed: Routed
    routed_to: int


class _MadeOnRequest(Sequence[Item]):
    """A sequence whose items are made when asked for (`_at`), not held one per line."""

    @abstractmethod
    def _at(self, index: int) -> Item: ...

    def _between(self, start: int, stop: int) -> list[Item]:
        return [self._at(i) for i in range(start, stop)]

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            return self._at(index)
        start, stop, step = index.indices(len(self))
        if step == 1:
            return self._between(start, stop)
        return [self._at(i) for i in range(start, stop, step)]


class Packed(_MadeOnRequest[T]):
    """Strings (or bytes) joined into one, with their lengths: one object to pickle and load
    rather than one per line, and a line's own made only when asked for."""

    def __init__(self, joined: T, lengths: list[int]) -> None:
        self._joined: T = joined
        self._lengths = lengths
        self._starts: list[int] | None = None

    def __len__(self) -> int:
        return len(self._lengths)

    def _at(self, index: int) -> T:
        starts = self._bounds()
        return self._joined[starts[index] : starts[index + 1]]

    def _between(self, start: int, stop: int) -> list[T]:
        starts, joined = self._bounds(), self._joined
        return [joined[a:b] for a, b in itertools.pairwise(starts[start : stop + 1])]

    def _bounds(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *itertools.accumulate(self._lengths)]
        return self._starts

    def __reduce__(self) -> tuple[type["Packed[T]"], tuple[T, list[int]]]:
        return Packed, (self._joined, self._lengths)


def packed(items: list[T]) -> Sequence[T]:
    """`items` as `Packed` where each is a plain str or bytes (a payload the archive cut is
    not: it stands for a longer one), else as they are."""
    kind = type(items[0]) if items else None
    if kind not in (str, bytes) or any(type(item) is not kind for item in items):
        return items
    return Packed(items[0][:0].join(items), list(map(len, items)))


class Control(NamedTuple):
    """A line of the daemon's journal, between the batches it separated live."""

    line: FeedLine


@dataclass
class FeedEnd:
    """What was read, every line once: lines = applied + journal + after --until + malformed."""

    lines: int = 0
    malformed: list[tuple[Path, FeedError]] = field(default_factory=list)
    skipped_after_until: int = 0
    last_ms: int | None = None
    """The latest receive time of a line not after --until."""


Event = Start | RoutedBatch | Control | FeedEnd
Sent = Event | BatchLines | BatchRouted
"""What `events` yields: a batch is a `RoutedBatch` where one process routes it whole, else its
lines and then the reading process's part routed, for `Assembly` to make the `RoutedBatch` of."""


class _Columns(_MadeOnRequest[Message]):
    """A batch's messages as received from the reading process; one is made only when asked
    for (a rejection's record), not one per line."""

    def __init__(
        self, received: list[int], topics: Sequence[str], payloads: Sequence[bytes]
    ) -> None:
        self._received, self._topics, self._payloads = received, topics, payloads

    def __len__(self) -> int:
        return len(self._received)

    def _at(self, index: int) -> Message:
        return Message(self._received[index], self._topics[index], self._payloads[index])

    def _between(self, start: int, stop: int) -> list[Message]:
        part = slice(start, stop)
        return list(map(Message, self._received[part], self._topics[part], self._payloads[part]))


class _Failed(NamedTuple):
    """The reading process's error, raised again in the replay."""

    error: BaseException


def read_items(path: Path) -> Iterator[FeedLine | FeedError]:
    """`read_feed`, with a file that cannot be read (opened or read on) a plain error."""
    try:
        yield from read_feed(path)  # closing this generator closes the file
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def events(
    files: Sequence[Path],
    router_of: Callable[[], Router],
    window: int,
    until_ms: int | None,
    balance: Balance | None = None,
) -> Iterator[Sent]:
    """`Start`, then the batches (at most `window` lines, or up to a journal line) and the
    journal lines in order, then `FeedEnd`. The router is made after `Start`, in the process
    that routes; with a `balance`, it routes each batch's first lines only, once their lines
    are on their way to the process that routes the rest."""
    end = FeedEnd()
    router: Router | None = None
    batch = Lines()

    def routed() -> Iterator[Sent]:
        assert router is not None
        stop = len(batch) if balance is None else balance.kept(router, batch)
        if stop == len(batch):
            yield RoutedBatch(batch, route_batch(router, batch))
        else:
            yield BatchLines(batch, stop)
            yield BatchRouted(route_batch(router, batch, stop), stop)
            observe_rest(router, batch, stop)

    for path in files:
        for item in read_items(path):
            end.lines += 1
            if isinstance(item, FeedError):
                end.malformed.append((path, item))
                continue
            received_ms = item.received_ms
            if router is None:
                yield Start(received_ms)
                router = router_of()
            if until_ms is not None and received_ms > until_ms:
                end.skipped_after_until += 1
                continue
            if end.last_ms is None or received_ms > end.last_ms:
                end.last_ms = received_ms
            if item.topic.startswith(CONTROL_PREFIX):
                if batch:
                    yield from routed()
                    batch = Lines()
                yield Control(item)
                continue
            batch.append(item)
            if len(batch) >= window:
                yield from routed()
                batch = Lines()
    if batch:
        yield from routed()
    yield end


def routed_feed(
    files: Sequence[Path],
    router_of: Callable[[], Router],
    window: int,
    until_ms: int | None,
    fork_above: int = FORK_ABOVE_BYTES,
) -> Iterator[Event]:
    """`events`, read in a process of its own where the files hold `fork_above` bytes or more."""
    if sum(map(lines_size, files)) < fork_above:
        return Assembly().events(events(files, router_of, window, until_ms))
    balance = Balance(router_of)
    return read_apart(events(files, router_of, window, until_ms, balance), balance)


def lines_size(file: Path) -> int:
    """The bytes of lines a file holds: a gzip file's from its trailer (its last member's size,
    modulo 4 GiB: an estimate, and all a choice of process needs). 0 for a file that cannot be
    read: reading it says why (`read_items`)."""
    try:
        with file.open("rb") as handle:
            if handle.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
                return handle.seek(0, os.SEEK_END)
            handle.seek(-4, os.SEEK_END)
            return max(int.from_bytes(handle.read(4), "little"), handle.tell())
    except OSError:
        return 0


class Assembly:
    """The batches made whole in the process that applies them: a `BatchLines`' lines, the part
    the reading process left routed by the `balance` as soon as they arrive (while the reading
    process routes its own), then its `BatchRouted` in front."""

    def __init__(self, balance: Balance | None = None) -> None:
        self._balance = balance
        self._lines: Sequence[Delivered] = ()
        self._rest: Routed | None = None

    def take(self, sent: Sent) -> Event | None:
        """The event to hand on, or None while a batch is not whole yet."""
        if isinstance(sent, BatchLines):
            self._lines = sent.lines
            if sent.routed_to < len(sent.lines):
                assert self._balance is not None, "lines left to route, and no router here"
                self._rest = self._balance.route_rest(sent.lines, sent.routed_to)
            return None
        if isinstance(sent, BatchRouted):
            routed = sent.routed
            if self._rest is not None:
                routed.extend(self._rest, sent.routed_to)
            batch = RoutedBatch(self._lines, routed)
            self._lines, self._rest = (), None
            return batch
        return sent

    def events(self, sent: Iterator[Sent]) -> Iterator[Event]:
        for each in sent:
            event = self.take(each)
            if event is not None:
                yield event


def read_apart(produced: Iterator[Sent], balance: Balance | None = None) -> Iterator[Event]:
    receiving, sending = os.pipe()
    with contextlib.suppress(OSError):  # a larger pipe where the system allows it
        fcntl.fcntl(sending, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    pid = os.fork()
    if pid == 0:  # the reading process: it never returns, nor runs what the replay would
        os.close(receiving)
        _send_all(produced, Connection(sending, readable=False), balance)
    os.close(sending)
    return _received(pid, Connection(receiving, writable=False), balance)


def _send_all(produced: Iterator[Sent], connection: Connection, balance: Balance | None) -> None:
    status = 0
    try:
        busy_s, began = 0.0, time.perf_counter()
        for event in produced:
            data = pickle.dumps(event, pickle.HIGHEST_PROTOCOL)
            busy_s += time.perf_counter() - began
            if balance is not None and isinstance(event, BatchRouted):
                balance.sent(busy_s, len(event.routed.live), event.routed_to)
                busy_s = 0.0
            connection.send_bytes(data)
            began = time.perf_counter()  # waiting for the engine is not being busy
    except KeyboardInterrupt:
        status = 1
    except BaseException as exc:  # to the replay, which says it and stops
        status = 1
        connection.send_bytes(pickle.dumps(_Failed(_picklable(exc)), pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(status)  # no atexit, no finalizer: the ledger and its lock are the replay's


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _received(pid: int, connection: Connection, balance: Balance | None) -> Iterator[Event]:
    """The reading process's events; a thread takes them in while the replay applies the
    batch before (receiving waits for the pipe, not for the interpreter)."""
    arrived: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)

    def pump() -> None:
        try:
            while True:
                arrived.put(connection.recv_bytes())
        except (EOFError, OSError):
            arrived.put(None)

    pumping = threading.Thread(target=pump, name="replay-reader", daemon=True)
    pumping.start()
    ended, assembly, lines_s = False, Assembly(balance), 0.0
    try:
        while (data := arrived.get()) is not None:
            began = time.perf_counter()
            sent = pickle.loads(data)
            if isinstance(sent, _Failed):
                raise sent.error
            event = assembly.take(sent)
            if event is None:  # a batch's lines, its rest routed here
                lines_s = time.perf_counter() - began
                continue
            ended = isinstance(event, FeedEnd)
            yield event
            if balance is not None and isinstance(sent, BatchRouted):
                busy_s = lines_s + time.perf_counter() - began
                balance.applied(busy_s, len(sent.routed.live), sent.routed_to)
        if not ended:
            raise UsageError(f"the replay's reading process (pid {pid}) stopped before the end")
    finally:
        if not ended:
            os.kill(pid, signal.SIGKILL)  # a zombie until waited for: never another's pid
        while pumping.is_alive():  # its last put may wait for room
            with contextlib.suppress(queue.Empty):
                arrived.get(timeout=0.1)
        os.waitpid(pid, 0)
        connection.close()
