"""Health and metrics over HTTP on a local port: `/healthz` for a supervisor, `/metrics` for
Prometheus (prometheus-client's exposition, from a registry of our own).

The server must never cost the daemon its file descriptors or a supervisor its answer, whoever
connects: one thread accepts and watches the connections that have not sent anything yet (at
most `MAX_WAITING`, the oldest closed first, each closed after `IDLE_TIMEOUT_S`), and a
connection is handed to a handler thread only once its request has begun to arrive (at most
`MAX_HANDLERS` at once, beyond that closed at once). A handler has `REQUEST_TIMEOUT_S` in all to
read the request and write the answer, then its connection is shut. So 2,000 idle connections
hold at most `MAX_WAITING` descriptors and no thread, and `/healthz` still answers at once.
"""

import contextlib
import json
import logging
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("levy.health")

TOP_REJECTING = 10
"""Meters named in /metrics: enough to find the misconfigured ones, few enough for any site."""

MAX_HANDLERS = 64
"""Requests served at once; a request beyond them is closed unanswered."""

MAX_WAITING = 256
"""Connections kept open before they send anything; the oldest goes when another comes."""

IDLE_TIMEOUT_S = 10.0
"""How long a connection may stay open without sending anything."""

REQUEST_TIMEOUT_S = 10.0
"""How long a handler may take to read its request and write the answer, in all."""

DEGRADED = "degraded"
"""The details key a status callable sets (to a reason, or a list of them) when the daemon
works but something needs an operator: /healthz then answers 200 with status "degraded"."""

Status = Callable[[], tuple[bool, dict[str, Any]]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("levy_messages", "MQTT messages received", registry=r)
        self.accepted = Counter("levy_readings_accepted", "readings applied", registry=r)
        self.rejected = Counter(
            "levy_rejected", "messages or readings rejected, by reason", ["reason"], registry=r
        )
        self.rejecting_meters = Gauge(
            "levy_meter_rejections",
            f"rejections since start of the {TOP_REJECTING} meters rejecting most, by reason",
            ["meter", "reason"],
            registry=r,
        )
        self.commit_seconds = Histogram(
            "levy_batch_commit_seconds", "time to apply and commit one batch", registry=r
        )
        self.queue_depth = Gauge("levy_queue_depth", "messages waiting for the engine", registry=r)
        self.meters = Gauge("levy_meters", "meters by reported status", ["status"], registry=r)
        self.ledger_clock = Gauge(
            "levy_ledger_clock_seconds", "the engine clock (unix seconds)", registry=r
        )
        self.oldest_unacked = Gauge(
            "levy_oldest_unacked_seconds",
            "age of the oldest message received but not yet acknowledged",
            registry=r,
        )
        self.connected = Gauge("levy_mqtt_connected", "1 while connected to the broker", registry=r)
        self.blind = Gauge(
            "levy_blind",
            "1 while the meters cannot be heard: disconnected, or still reading the backlog "
            "the broker kept (no silence is deemed meanwhile)",
            registry=r,
        )
        self.owed_kwh = Gauge(
            "levy_month_to_date_kwh",
            "energy of the current month so far (shown as a float; the ledger is exact)",
            ["supply", "basis"],
            registry=r,
        )
        self.owed_tenge = Gauge(
            "levy_month_to_date_fee_tenge",
            "levy owed for the current month so far, as the report rounds it",
            ["supply"],
            registry=r,
        )
        self.export_lag = Gauge(
            "levy_export_lag_seconds",
            "how long the time-series export has been behind the ledger (0: caught up)",
            registry=r,
        )
        self.export_errors = Counter(
            "levy_export_errors", "failed export attempts, by reason", ["reason"], registry=r
        )
        self.export_rows = Counter(
            "levy_export_rows", "ledger rows sent to the time-series database", registry=r
        )
        self.health_refused = Counter(
            "levy_health_connections_refused",
            "connections to the health port closed unanswered: idle too long, too many "
            "waiting, or too many requests at once",
            ["why"],
            registry=r,
        )


def health_document(healthy: bool, details: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The /healthz answer: 503 "unhealthy" when not healthy; 200 "degraded" when healthy but
    `details` names a degradation under `DEGRADED`; else 200 "ok"."""
    if not healthy:
        return 503, {"status": "unhealthy", **details}
    if details.get(DEGRADED):
        return 200, {"status": "degraded", **details}
    return 200, {"status": "ok", **details}


class HealthServer:
    """Serves in a thread; `status` is called per request and returns (healthy, details). It
    may be replaced while serving: the daemon claims its port first and says "starting" until
    the rest is up."""

    def __init__(self, host: str, port: int, metrics: Metrics, status: Status) -> None:
        self.metrics = metrics
        self.status = status
        self.handler = _handler(metrics, lambda: self.status())
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=128)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.waiting: OrderedDict[socket.socket, float] = OrderedDict()
        """Connections that have sent nothing yet, by the monotonic time they were accepted."""
        self.active: dict[socket.socket, float] = {}
        """Connections a handler serves, by the monotonic time it began."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.complained = 0.0
        self.thread = threading.Thread(target=self._serve, name="health", daemon=True)

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        for connection in list(self.waiting):
            self._close_waiting(connection)
        with self.lock:
            for connection in self.active:
                _shut(connection)
        self.selector.close()
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                for key, _ in self.selector.select(timeout=0.25):
                    if key.fileobj is self.listener:
                        self._accept()
                    else:
                        self._ready(key.fileobj)  # type: ignore[arg-type]
                self._expire(time.monotonic())
            except Exception:  # the endpoint must outlive any one connection's surprise
                self._complain("health: serving failed", exc_info=True)
                time.sleep(0.1)

    def _complain(self, message: str, *args: object, exc_info: bool = False) -> None:
        """A warning at most once a minute: a loop that fails fails again at once."""
        now = time.monotonic()
        if now - self.complained >= 60:
            self.complained = now
            log.warning(message, *args, exc_info=exc_info)

    def _accept(self) -> None:
        for _ in range(MAX_WAITING):
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, or aborted before accept: try later
                self._complain("health: cannot accept a connection (%s)", exc)
                time.sleep(0.1)
                return
            connection.setblocking(False)
            if len(self.waiting) >= MAX_WAITING:
                oldest = next(iter(self.waiting))
                self._close_waiting(oldest)
                self.metrics.health_refused.labels("waiting").inc()
            self.waiting[connection] = time.monotonic()
            self.selector.register(connection, selectors.EVENT_READ)

    def _ready(self, connection: socket.socket) -> None:
        """A waiting connection sent something (or closed): serve it on a handler thread."""
        self.selector.unregister(connection)
        del self.waiting[connection]
        try:
            if connection.recv(1, socket.MSG_PEEK) == b"":  # closed without a request
                connection.close()
                return
        except OSError:
            connection.close()
            return
        with self.lock:
            if len(self.active) >= MAX_HANDLERS:
                busy = True
            else:
                busy = False
                self.active[connection] = time.monotonic()
        if busy:
            connection.close()
            self.metrics.health_refused.labels("busy").inc()
            return
        threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        try:
            connection.setblocking(True)
            self.handler(connection, connection.getpeername(), self)  # type: ignore[arg-type]
        except OSError:
            pass  # the client went away, or its time ran out
        finally:
            with self.lock:
                self.active.pop(connection, None)
            _shut(connection)
            connection.close()

    def _expire(self, now: float) -> None:
        while self.waiting:
            connection, since = next(iter(self.waiting.items()))
            if now - since < IDLE_TIMEOUT_S:
                break
            self._close_waiting(connection)
            self.metrics.health_refused.labels("idle").inc()
        with self.lock:
            late = [c for c, since in self.active.items() if now - since >= REQUEST_TIMEOUT_S]
        for connection in late:
            _shut(connection)  # the blocked read or write returns; the handler ends
            self.metrics.health_refused.labels("slow").inc()

    def _close_waiting(self, connection: socket.socket) -> None:
        self.waiting.pop(connection, None)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection)
        connection.close()


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def _handler(metrics: Metrics, status: Status) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S
        """Per read and write; the server also shuts a connection past REQUEST_TIMEOUT_S."""

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif self.path == "/healthz":
                code, document = health_document(*status())
                self._send(code, "application/json", json.dumps(document).encode())
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes every few seconds would drown the log."""

    return Handler
