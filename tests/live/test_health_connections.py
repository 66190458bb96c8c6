"""The health port against hostile clients: idle connections by the thousand, slow requests,
more requests than handlers. /healthz keeps answering and the process's descriptors stay
bounded; and a degraded daemon says so."""

import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest

from levy.app import health
from levy.app.health import HealthServer, Metrics
from tests.live.harness import Broker, Daemon, Publisher, free_port, site_toml, wait_until

IDLE = 2_000
SERVER = """
import sys
from levy.app.health import HealthServer, Metrics
server = HealthServer("127.0.0.1", 0, Metrics(), lambda: (True, {"connected": True}))
server.start()
print(server.port, flush=True)
sys.stdin.read()
"""


def get(port: int, path: str = "/healthz", timeout_s: float = 3.0) -> tuple[int, dict | str]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            code, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        code, body = error.code, error.read()
    return code, json.loads(body) if path == "/healthz" else body.decode()


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def open_idle(stack: ExitStack, port: int, count: int, within_s: float = 30.0) -> None:
    """`count` connections that send nothing; a server that stops accepting fails the test
    instead of hanging it."""
    deadline = time.monotonic() + within_s
    for n in range(count):
        left = deadline - time.monotonic()
        assert left > 0, f"only {n} of {count} connections opened in {within_s} s"
        try:
            stack.enter_context(socket.create_connection(("127.0.0.1", port), min(left, 2)))
        except OSError as exc:
            raise AssertionError(f"connection {n} of {count} failed: {exc}") from exc


def test_two_thousand_idle_connections_neither_exhaust_descriptors_nor_block_healthz() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        before = descriptors(server.pid)
        with ExitStack() as stack:
            open_idle(stack, port, IDLE)
            started = time.monotonic()
            code, document = get(port)
            assert time.monotonic() - started < 3
            assert (code, document) == (200, {"status": "ok", "connected": True})
            held = descriptors(server.pid) - before
            assert held <= health.MAX_WAITING + health.MAX_HANDLERS, held
            code, metrics = get(port, "/metrics")
            assert code == 200
            assert 'levy_health_connections_refused_total{why="waiting"}' in metrics
        wait_until(lambda: descriptors(server.pid) <= before + 2, what="the idle ones closed")
    finally:
        server.stdin.close()
        server.wait(timeout=10)


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(health, "IDLE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(health, "REQUEST_TIMEOUT_S", 0.5)
    monkeypatch.setattr(health, "MAX_HANDLERS", 4)


def serve(status=lambda: (True, {})) -> HealthServer:
    server = HealthServer("127.0.0.1", 0, Metrics(), status)
    server.start()
    return server


def closed_by_server(connection: socket.socket, within_s: float) -> bool:
    connection.settimeout(within_s)
    try:
        return connection.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_an_idle_connection_is_closed_after_the_idle_timeout(short_timeouts) -> None:
    server = serve()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as idle:
            assert closed_by_server(idle, 3)
    finally:
        server.stop()


def test_a_slow_request_holds_its_handler_no_longer_than_the_request_timeout(
    short_timeouts,
) -> None:
    """A request trickling in a byte at a time (slowloris) is cut off, whatever its pace."""
    server = serve()
    try:
        with ExitStack() as stack:
            slow = [
                stack.enter_context(socket.create_connection(("127.0.0.1", server.port)))
                for _ in range(health.MAX_HANDLERS)
            ]
            for connection in slow:
                connection.sendall(b"GE")
            wait_until(lambda: len(server.active) == health.MAX_HANDLERS, 5, "busy handlers")
            with socket.create_connection(("127.0.0.1", server.port)) as extra:
                extra.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                assert closed_by_server(extra, 3), "beyond the handlers: closed at once"
            started = time.monotonic()
            for connection in slow:
                connection.sendall(b"T")
            assert all(closed_by_server(connection, 3) for connection in slow)
            assert time.monotonic() - started < 3
            wait_until(lambda: not server.active, 5, "the handlers to end")
        assert get(server.port)[0] == 200
    finally:
        server.stop()


def test_healthz_says_degraded_with_the_reason_and_unhealthy_with_503() -> None:
    state = {"healthy": True, "details": {"connected": True}}
    server = serve(lambda: (state["healthy"], dict(state["details"])))
    try:
        assert get(server.port) == (200, {"status": "ok", "connected": True})
        vanished = "archive: the folder var/archive/site vanished at 2026-11-25T10:00:00Z"
        state["details"] = {"connected": True, "degraded": [vanished]}
        assert get(server.port) == (
            200,
            {"status": "degraded", "connected": True, "degraded": [vanished]},
        )
        state["healthy"] = False
        assert get(server.port)[0] == 503
        assert get(server.port)[1]["status"] == "unhealthy"
    finally:
        server.stop()


def test_the_daemon_keeps_answering_and_reading_with_its_health_port_flooded(tmp_path) -> None:
    """The daemon with 1,024 descriptors (systemd's default soft limit), 2,000 idle connections
    to its health port: /healthz answers, messages are still read and archived."""
    broker = Broker(tmp_path / "broker").start()
    health_port = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health_port, 2), health_port).start()
    try:
        resource.prlimit(daemon.process.pid, resource.RLIMIT_NOFILE, (1024, 1024))
        publisher = Publisher(broker.port)
        with ExitStack() as stack:
            open_idle(stack, health_port, IDLE)
            now_ms = time.time_ns() // 1_000_000
            for n in range(2):
                publisher.native(f"t/rig-{n}", now_ms, "1.5")
            assert daemon.health()["connected"] is True
            assert descriptors(daemon.process.pid) < 512
            wait_until(
                lambda: "levy_messages_total 2.0" in daemon.metrics(), 10, "the messages read"
            )
        publisher.close()
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()
