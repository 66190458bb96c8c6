"""Node-RED as a peer of the drain: its standard flow (`bench/nodered-flows.json`), an `mqtt in`
node (MQTT v5, QoS 1, a persistent session under the given client id) wired to the `influxdb out`
node of `node-red-contrib-influxdb` (v2 API), one point of the payload's fields per message, as a
user builds it, nothing tuned.

Node-RED and the node are installed with npm into `bench/out/node-red` on first use, at pinned
versions; without npm, or when the install fails, `drain` raises `Skipped`. Node-RED runs
headless (no editor, no HTTP server). Its drain is timed from the log line of its connection to
the broker to VictoriaMetrics counting the last of its points ingested
(`vm_rows_inserted_total{type="influx"}`, polled every 50 ms): stored, as for the influx peers.
The rows taken in are counted, not the samples kept: the flow's points carry neither the meter
nor the reading's time, so of those written in the same millisecond VictoriaMetrics keeps one,
as InfluxDB would.
"""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from bench.backlog import TOPIC_PREFIX
from collector.mqtt import SESSION_EXPIRY_S

PACKAGES = {"node-red": "4.1.8", "node-red-contrib-influxdb": "0.7.0"}
HOME = Path(__file__).parent / "out" / "node-red"
FLOWS = Path(__file__).with_name("nodered-flows.json")
FIELDS = 2
"""A payload's fields (`ts`, `energy_kwh`): VictoriaMetrics counts a row per field."""
INGESTED = 'vm_rows_inserted_total{type="influx"}'
HEADLESS = ("httpAdminRoot=false", "httpNodeRoot=false", "credentialSecret=false")
"""No editor, no HTTP server, and the credentials file in plain text."""
STALL_S = 60.0
"""No point stored for this long: the flow has given up (its log says why)."""


class Skipped(Exception):
    """Node-RED cannot be installed here, or its flow did not store every message (under a
    backlog its requests to the database time out, and the points are lost): the peer is left
    out, saying why."""


def installed() -> bool:
    for name, version in PACKAGES.items():
        manifest = HOME / "node_modules" / name / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
            return False
    return True


def install() -> Path:
    """Node-RED's command, installed with its InfluxDB node unless the pinned versions are."""
    command = HOME / "node_modules" / ".bin" / "node-red"
    if installed():
        return command
    npm = shutil.which("npm")
    if npm is None:
        raise Skipped("npm is not installed")
    HOME.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(HOME), "--no-audit", "--no-fund", "--omit=dev"]
    argv += [f"{name}@{version}" for name, version in PACKAGES.items()]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Skipped(f"npm install failed: {error}") from error
    if done.returncode != 0 or not installed():
        errors = [line for line in done.stderr.splitlines() if line.startswith("npm error")]
        raise Skipped(f"npm install failed: {'; '.join(errors[:2]) or done.returncode}")
    return command


def ingested(influx_url: str) -> int:
    with urllib.request.urlopen(f"{influx_url}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(INGESTED):
                return int(float(line.split()[-1]))
    return 0


def start(command: Path, port: int, client_id: str, influx_url: str) -> subprocess.Popen[str]:
    """Node-RED on the flow with a fresh user dir, the flow's settings from the environment
    (`${VAR}` in the flow); the token is its one credential, in the user dir as the editor
    stores it."""
    user = HOME / "user"
    shutil.rmtree(user, ignore_errors=True)
    user.mkdir(parents=True)
    credentials = {"bench-influxdb": {"token": "bench"}}
    (user / f"{FLOWS.stem}_cred.json").write_text(json.dumps(credentials))
    env = {
        **os.environ,
        "MQTT_PORT": str(port),
        "MQTT_CLIENT_ID": client_id,
        "MQTT_TOPIC": f"{TOPIC_PREFIX}/#",
        "MQTT_SESSION_EXPIRY": str(SESSION_EXPIRY_S),
        "INFLUX_URL": influx_url,
    }
    argv = [str(command), "--userDir", str(user), "--no-telemetry"]
    argv += [arg for setting in HEADLESS for arg in ("-D", setting)]
    return subprocess.Popen(
        [*argv, str(FLOWS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def follow(process: subprocess.Popen[str], log: Path, connected: list[float]) -> None:
    """Copies Node-RED's output into its log, noting when it reports its broker connection."""
    assert process.stdout is not None
    with log.open("w") as out:
        for line in process.stdout:
            if not connected and "Connected to broker" in line:
                connected.append(time.perf_counter())
            out.write(line)
            out.flush()


def wait_stored(
    process: subprocess.Popen[str], influx_url: str, base: int, rows: int, log: Path
) -> float:
    """When VictoriaMetrics had `rows` more influx rows than `base`; Skipped if Node-RED exits
    or stops storing before that."""
    seen, moved_at = base, time.perf_counter()
    while seen < base + rows:
        if process.poll() is not None or time.perf_counter() - moved_at > STALL_S:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise Skipped(
                f"its flow stored {(seen - base) // FIELDS} of {rows // FIELDS} points:\n{tail}"
            )
        time.sleep(0.05)
        count = ingested(influx_url)
        if count > seen:
            seen, moved_at = count, time.perf_counter()
    return moved_at


def stop(process: subprocess.Popen[str]) -> None:
    """Node-RED busy retrying its writes may not stop when asked."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def drain(port: int, client_id: str, expect: int, influx_url: str) -> float:
    """The seconds Node-RED's flow takes from its connection to the last of `expect` messages
    stored; its session (`client_id`) must hold them already."""
    command = install()
    base = ingested(influx_url)
    process = start(command, port, client_id, influx_url)
    log = HOME / "user" / "node-red.log"
    connected: list[float] = []
    follower = threading.Thread(target=follow, args=(process, log, connected), daemon=True)
    follower.start()
    try:
        done_at = wait_stored(process, influx_url, base, expect * FIELDS, log)
    finally:
        stop(process)
        follower.join(timeout=5)
    if not connected:
        raise RuntimeError(f"Node-RED stored its points but never logged its connection: {log}")
    return done_at - connected[0]
