"""The MQTT client in a process of its own.

Draining a backlog, paho's network loop (reading packets, building messages, sending the
acknowledgements) takes a whole core by itself, and the engine, the ledger and the archive
another: in one process they would share one core through the GIL. So the `MqttSource` runs in a
child process and the daemon talks to it through two pipes:

- messages come in, in the order paho delivered them, in lists (whatever has queued up since
  the last list: one message when idle, up to `SEND_MAX` under a backlog), and each link event
  alone, in its place between them;
- acknowledgements go out, by (session, message id), after the batch holding them committed,
  and so do the daemon's requests for a marker (`mark`).

Back-pressure is kept end to end: a full inbox in the daemon stops its reader, the pipe fills,
the child's sender blocks, its bounded outbox fills, and paho stops reading the socket. The
child ignores SIGTERM and SIGINT (the daemon stops it, after its last commit) and exits as soon
as the daemon is gone (the acknowledgement pipe reaches its end), so a daemon killed with
SIGKILL leaves no client holding its session.
"""

import logging
import os
import signal
import subprocess
import threading
from multiprocessing.connection import Connection
from typing import Protocol

from levy.core.model import from_fields

from .child import spawn, wait_or_kill
from .mqtt import (
    BrokerSettings,
    FatalConnectionError,
    LinkEvent,
    LinkKind,
    MqttSource,
    Received,
)
from .outbox import Outbox, Wire

log = logging.getLogger("levy.mqtt")

SEND_MAX = 1000
"""Messages per list sent to the daemon: one pipe message carries this many at the most."""
QUEUE_MAX = 2000
"""Items the child holds while the daemon does not read."""
MARK_PATIENCE_MS = 600_000
"""How long a marker may stay away before the next sweep asks for another: two out at once cost
nothing (each sweeps at its own time, in order), one lost would stop the sweeps."""
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
_STARTED = "started"
_FATAL = "fatal"

new_received = from_fields(Received)


class Inbox(Protocol):
    """Where the daemon's reader puts what arrives: `levy.app.inbox.Inbox`."""

    def put(self, item: list[Received] | LinkEvent, timeout: float | None = None) -> None: ...


class MqttProcess:
    """What the worker needs of an `MqttSource` (start, stop, acknowledgements and the link's
    state), with the source itself in a child process."""

    def __init__(self, settings: BrokerSettings, inbox: Inbox, log_format: str) -> None:
        self.settings = settings
        self.inbox = inbox
        self.session = 0
        self.connected_since_ms: int | None = None
        self._log_format = log_format
        self._events: Connection | None = None
        self._acks: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self._timeout_s = START_TIMEOUT_S
        self._seeing = False
        """The backlog of the connection now up has been read (its drain marker came back)."""
        self._marking: int | None = None
        """The time of the marker asked for and not back yet: one at a time, however far
        behind the daemon is."""

    @property
    def connected(self) -> bool:
        return self.connected_since_ms is not None

    def launch(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the child without waiting for it: it imports and connects on the other core
        while the daemon loads its ledger (a restart with 100,000 meters takes seconds), and
        what it receives meanwhile waits in the pipe, unacknowledged."""
        setup = (self.settings, self._log_format, timeout_s)
        self._process, self._events, self._acks = spawn("collector.mqtt_child", setup)
        self._timeout_s = timeout_s

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """As `MqttSource.start`: FatalConnectionError for a refusal retrying cannot fix. Waits
        for the child `launch` started, or launches it first."""
        if self._events is None:
            self.launch(timeout_s)
        assert self._events is not None
        wait_s = self._timeout_s + START_TIMEOUT_S
        answer = self._events.recv() if self._events.poll(wait_s) else None
        if answer is None or answer[0] != _STARTED:
            problem = "the MQTT process did not start" if answer is None else answer[1]
            self.stop()
            raise FatalConnectionError(problem)
        self._reader = threading.Thread(target=self._read, name="mqtt-reader", daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """The child disconnects and exits once the pipe of acknowledgements is closed."""
        if self._acks is not None:
            with self._send_lock:
                self._acks.close()
        if self._process is not None:
            wait_or_kill(self._process, STOP_TIMEOUT_S)
        self.connected_since_ms = None

    def ack_all(self, messages: list[Received]) -> None:
        """One pipe message for a batch; the child drops those of another session."""
        if not messages:
            return
        wire = [(m.session, m.mid, m.qos) for m in messages if m.qos > 0]
        if not self._tell(wire):
            log.warning("the MQTT process is gone; %d acknowledgements not sent", len(wire))

    def mark(self, at_ms: int) -> None:
        """A "caught_up" event at `at_ms` once every message the broker holds for us now is in
        the inbox ahead of it, so that a sweep at `at_ms` comes after them. Put at once, behind
        what has been read, while no marker can be waited for (disconnected, the backlog still
        arriving, markers refused): the worker deems nothing while blind, and after a refusal
        keeps to its old guess. Nothing while a marker asked for earlier is not back: the
        daemon is that far behind, and that one's sweep comes first; after `MARK_PATIENCE_MS`
        another is asked for all the same, in case the broker dropped the first (a full queue)."""
        if self._marking is not None and at_ms - self._marking < MARK_PATIENCE_MS:
            return
        if not (self.connected and self._seeing):
            self.inbox.put(LinkEvent(LinkKind.CAUGHT_UP, at_ms, self.session))
            return
        self._marking = at_ms
        if not self._tell(at_ms):
            log.warning("the MQTT process is gone; no marker sent")

    def _tell(self, item: list[tuple[int, int, int]] | int) -> bool:
        """Send the child acknowledgements or a marker's time; False if it is gone."""
        if self._acks is None:
            return False
        try:
            with self._send_lock:
                self._acks.send(item)
        except OSError:
            return False
        return True

    def _read(self) -> None:
        assert self._events is not None
        while True:
            try:
                items: list[Wire] | LinkEvent = self._events.recv()
            except (EOFError, OSError):
                self.connected_since_ms = None
                return
            if isinstance(items, LinkEvent):
                self._follow(items)
                self.inbox.put(items)
            else:
                self.inbox.put(list(map(new_received, items)))

    def _follow(self, event: LinkEvent) -> None:
        if event.kind is LinkKind.CONNECTED:
            self.session = event.session
            self.connected_since_ms = event.at_ms
            self._seeing, self._marking = False, None
        elif event.kind is LinkKind.DISCONNECTED:
            self.connected_since_ms = None
            self._seeing = False
        elif event.kind is LinkKind.DRAINED:
            self._seeing = True
        elif event.kind is LinkKind.CAUGHT_UP:
            self._marking = None


def serve(
    settings: BrokerSettings,
    events: Connection,
    acks: Connection,
    log_format: str,
    timeout_s: float,
) -> None:
    """The child (`collector.mqtt_child`): the source, a sender of what it queues, and
    acknowledgements until the daemon closes the pipe (or is gone)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format=log_format)
    outbox = Outbox(QUEUE_MAX)
    source = MqttSource(settings, outbox)
    try:
        source.start(timeout_s)
    except FatalConnectionError as exc:
        events.send((_FATAL, str(exc)))
        return
    events.send((_STARTED, ""))
    threading.Thread(target=_send, args=(outbox, events), name="sender", daemon=True).start()
    try:
        while True:
            asked: list[tuple[int, int, int]] | int = acks.recv()
            if isinstance(asked, int):
                source.mark(asked)
            else:
                source.ack_ids(asked)
    except (EOFError, OSError):
        pass
    source.stop()
    os._exit(0)  # the sender may be blocked on a pipe nobody reads any more


def _send(outbox: Outbox, events: Connection) -> None:
    while True:
        try:
            events.send(outbox.take(SEND_MAX))
        except OSError:
            return
