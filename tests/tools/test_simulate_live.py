"""Live mode against a real Mosquitto started here, on a free port, never the system's broker:
every message the simulator says it published is delivered, each reading routes to its meter,
a signal ends an open-ended run cleanly, and connection problems exit 2 with a plain message.
A missing mosquitto binary fails these tests; it never skips them."""

import argparse
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from collector.router import Router
from levy.config import SiteConfig, parse_config
from levy.core.model import Reading, Rejection
from levy.tools.simulate.cli import add_arguments, run
from levy.tools.simulate.fleet import synthetic_meters
from tests.collector.support import ALMATY
from tests.live.harness import Broker, free_port

PREFIX = "sim/live"
StartBroker = Callable[[str], int]


@pytest.fixture
def start_broker(tmp_path: Path) -> Iterator[StartBroker]:
    """Starts a Mosquitto with the given access lines (default: anonymous) and stops it after
    the test; returns its port."""
    brokers: list[Broker] = []

    def start(access: str = "allow_anonymous true\n") -> int:
        broker = Broker(tmp_path / f"broker-{len(brokers)}", extra=access).start()
        brokers.append(broker)
        return broker.port

    yield start
    for broker in brokers:
        broker.stop()


class Subscriber:
    """Everything published below the prefix, with its receive time, at QoS 1."""

    def __init__(self, port: int, auth: tuple[str, str] | None = None) -> None:
        self.messages: list[tuple[str, bytes, int]] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{port}")
        if auth is not None:
            self.client.username_pw_set(*auth)
        self.client.on_connect = lambda client, *_: client.subscribe(f"{PREFIX}/#", qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _client, _data, message: self.messages.append(
            (message.topic, message.payload, time.time_ns() // 1_000_000)
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the subscription was not acknowledged"

    def wait_for(self, count: int, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) == count

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def simulate(*argv: str | Path, config: SiteConfig | None = None) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args([str(arg) for arg in argv]), config)


def test_every_published_message_arrives_and_routes_to_its_meter(
    start_broker: StartBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = start_broker()
    subscriber = Subscriber(port)
    truth_path = tmp_path / "truth.json"
    try:
        status = simulate(
            *("--port", str(port), "--topic-prefix", PREFIX, "--truth", truth_path),
            *("--meters", "5", "--format", "mixed", "--interval", "1", "--duration", "3"),
            *("--seed", "3", "--malformed-rate", "0.2", "--fault-rate", "0.2"),
        )
        assert status == 0
        truth = json.loads(truth_path.read_text())
        subscriber.wait_for(sum(truth["messages"].values()))
    finally:
        subscriber.close()
    assert "all acknowledged by the broker" in capsys.readouterr().err
    router = Router(synthetic_meters(5, "mixed", Decimal("3.25"), PREFIX), ALMATY)
    outcomes = [o for t, p, ms in subscriber.messages for o in router.route(t, p, ms)]
    for meter in truth["meters"]:
        published = sum(meter["events"].values()) - meter["events"]["silent"]
        mine = [o for o in outcomes if o.meter == meter["meter"]]
        assert len(mine) == published == 3, meter["meter"]  # one outcome per reading
        rejected = [o for o in mine if isinstance(o, Rejection)]
        assert len(rejected) == meter["events"]["malformed"]
        faults = [o for o in mine if isinstance(o, Reading) and o.fault]
        assert len(faults) == meter["events"]["fault"]
    readings = [o for o in outcomes if isinstance(o, Reading)]
    assert all(o.ts_ms <= o.received_ms for o in readings)  # wall-clock time, never ahead


def test_a_signal_ends_an_open_ended_run_after_its_messages_are_acknowledged(
    start_broker: StartBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    port = start_broker()
    subscriber = Subscriber(port)

    def interrupt_once_heard() -> None:
        deadline = time.monotonic() + 10
        while len(subscriber.messages) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_heard)
    interrupter.start()
    try:
        status = simulate("--port", str(port), "--topic-prefix", PREFIX, "--interval", "1")
        interrupter.join()
        err = capsys.readouterr().err
        published = int(err.split(" messages published")[0].rsplit(" ", 1)[1])
        subscriber.wait_for(published)
    finally:
        subscriber.close()
    assert status == 0 and published >= 4
    assert "all acknowledged by the broker" in err


@pytest.mark.parametrize("source", ["options", "config"])
def test_a_password_from_the_environment_opens_a_protected_broker(
    start_broker: StartBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "sim", "s3cret"], check=True)
    port = start_broker(f"allow_anonymous false\npassword_file {passwords}\n")
    monkeypatch.setenv("SIM_MQTT_PASSWORD", "s3cret")
    subscriber = Subscriber(port, auth=("sim", "s3cret"))
    try:
        if source == "options":
            status = simulate(
                *("--port", str(port), "--topic-prefix", PREFIX, "--meters", "2"),
                *("--username", "sim", "--password-env", "SIM_MQTT_PASSWORD"),
                *("--interval", "1", "--duration", "1"),
            )
        else:
            status = simulate("--interval", "1", "--duration", "1", config=protected_site(port))
        subscriber.wait_for(2)
    finally:
        subscriber.close()
    assert status == 0
    assert {topic for topic, _, _ in subscriber.messages} == {
        f"{PREFIX}/rig-0001",
        f"{PREFIX}/rig-0002",
    }


def protected_site(port: int) -> SiteConfig:
    """Two native rigs, and the broker's address and credentials in `[mqtt]`."""
    meters = [
        {"id": f"rig-000{n}", "topic": f"{PREFIX}/rig-000{n}", "rated_kw": "3.25"} for n in (1, 2)
    ]
    mqtt_table = {"port": port, "username": "sim", "password_env": "SIM_MQTT_PASSWORD"}
    data = {"site": {"id": "sim"}, "mqtt": mqtt_table, "meters": meters}
    return parse_config(data, Path("/nonexistent/site.toml"))


def test_a_refused_connection_exits_2_with_a_plain_message(
    start_broker: StartBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    port = start_broker("allow_anonymous false\n")
    assert simulate("--port", str(port), "--duration", "1") == 2
    err = capsys.readouterr().err
    assert f"the MQTT broker at 127.0.0.1:{port} refused the connection" in err
    assert "Traceback" not in err


def test_no_broker_exits_2_with_a_plain_message(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert simulate("--port", str(port), "--duration", "1") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"levy-monitor: cannot connect to the MQTT broker at 127.0.0.1:{port}")
    assert err.count("\n") == 1
