"""Real time-series databases for the export tests (DESIGN.md section 5), each on free ports in
the test's own folder: InfluxDB 1.6 (the InfluxQL engine) behind the v2 write path mapping that
InfluxDB 1.8 does itself, and VictoriaMetrics, which takes the v2 write API as it is. A missing
binary fails the test loudly: `.ci/run` installs both."""

import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.live.harness import free_port, wait_until

V2_TO_V1_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}


def binary(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: .ci/run installs it"
    return found


def http(method: str, url: str, body: bytes | None = None, headers=None, timeout_s=10.0):
    """(status, body) of one request; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Server:
    """A database process of the test's own; stop and start keep its data (same folder, same
    port), so a test can take it away and bring it back."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    name = ""
    ready_path = ""
    ready_status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=log)
        wait_until(self.ready, what=f"{self.name} on port {self.port}")
        return self

    def ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, (
            f"{self.name} exited: {(self.folder / f'{self.name}.log').read_text()[-2000:]}"
        )
        try:
            return (
                http("GET", f"{self.url}{self.ready_path}", timeout_s=0.5)[0] == self.ready_status
            )
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@dataclass
class InfluxDB16(Server):
    """`influxd` with a temporary config: data, meta and wal under the test's folder."""

    rpc_port: int = field(default_factory=free_port)
    name = "influxd"
    ready_path = "/ping"
    ready_status = 204

    def command(self) -> list[str]:
        conf = self.folder / "influxdb.conf"
        conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.folder}/meta"\n'
            f'[data]\n  dir = "{self.folder}/data"\n  wal-dir = "{self.folder}/wal"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
            '[logging]\n  level = "error"\n'
        )
        return [binary("influxd"), "-config", str(conf)]

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"')

    def query(self, text: str, db: str | None = None) -> list[dict]:
        """The statements' results, times in epoch milliseconds; an error fails the test."""
        params = {"q": text, "epoch": "ms"}
        if db is not None:
            params["db"] = db
        body = urllib.parse.urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, answer = http("POST", f"{self.url}/query", body, headers)
        document = json.loads(answer)
        assert status == 200, f"{text}: HTTP {status} {document}"
        for result in document["results"]:
            assert "error" not in result, f"{text}: {result['error']}"
        return document["results"]

    def series(self, text: str, db: str) -> list[dict]:
        """The series of a one-statement query, each as {tags, rows: [{column: value}]}."""
        (result,) = self.query(text, db)
        return [
            {
                "tags": serie.get("tags", {}),
                "rows": [
                    dict(zip(serie["columns"], values, strict=True)) for values in serie["values"]
                ],
            }
            for serie in result.get("series", [])
        ]


class V2WriteProxy:
    """`POST /api/v2/write?bucket=B&precision=P` to InfluxDB 1.6's `POST /write?db=B&precision=P`,
    body and Content-Encoding unchanged, as InfluxDB 1.8's compatibility endpoint does; and, as
    InfluxDB 2 does, a 401 for a token other than `token`."""

    def __init__(self, target: InfluxDB16, token: str) -> None:
        self.target = target
        self.token = token
        self.writes = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "V2WriteProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Token {proxy.token}":
                    self.answer(401, b'{"code":"unauthorized","message":"unauthorized access"}')
                    return
                if parts.path != "/api/v2/write":
                    self.answer(404, b'{"code":"not found","message":"path not found"}')
                    return
                mapped = urllib.parse.urlencode(
                    {
                        "db": query["bucket"][0],
                        "precision": V2_TO_V1_PRECISION[query.get("precision", ["ns"])[0]],
                    }
                )
                headers = {"Content-Type": "text/plain; charset=utf-8"}
                if self.headers.get("Content-Encoding"):
                    headers["Content-Encoding"] = self.headers["Content-Encoding"]
                try:
                    status, answer = http(
                        "POST", f"{proxy.target.url}/write?{mapped}", body, headers
                    )
                except OSError:
                    self.answer(502, b'{"code":"unavailable","message":"influxd is down"}')
                    return
                if status == 204:
                    proxy.writes += 1
                self.answer(status, answer)

            def answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@dataclass
class VictoriaMetrics(Server):
    name = "victoria-metrics"
    ready_path = "/health"

    def command(self) -> list[str]:
        return [
            binary("victoria-metrics"),
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.folder}/data",
            "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms",
            "-loggerLevel=ERROR",
        ]

    def export(self, match: str) -> list[dict]:
        """Every sample of the series matching `match`, after flushing what was just written."""
        http("GET", f"{self.url}/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": match, "reduce_mem_usage": "1"})
        status, body = http("GET", f"{self.url}/api/v1/export?{query}")
        assert status == 200, body
        return [json.loads(line) for line in body.splitlines() if line.strip()]
