"""Health and metrics over HTTP on a local port: `/healthz` for a supervisor, `/metrics` for
Prometheus (prometheus-client's exposition, from a registry of our own)."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

TOP_REJECTING = 10
"""Meters named in /metrics: enough to find the misconfigured ones, few enough for any site."""


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


class HealthServer:
    """Serves in a thread; `status` is called per request and returns (healthy, details)."""

    def __init__(
        self,
        host: str,
        port: int,
        metrics: Metrics,
        status: Callable[[], tuple[bool, dict[str, Any]]],
    ) -> None:
        handler = _handler(metrics, status)
        self.server = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(
    metrics: Metrics, status: Callable[[], tuple[bool, dict[str, Any]]]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif self.path == "/healthz":
                healthy, details = status()
                body = json.dumps({"status": "ok" if healthy else "unhealthy", **details})
                self._send(200 if healthy else 503, "application/json", body.encode())
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
