"""The shipped Mosquitto configuration (deploy/mosquitto/levy.conf) loads in a real Mosquitto
and does what its comments say: payloads over 64 KiB stop at the broker, the persistence is
saved every minute, the backlog is unbounded."""

import contextlib
import queue
from pathlib import Path

from collector.mqtt import BrokerSettings, LinkEvent, MqttSource, Received
from levy.config.sections import DaemonConfig
from tests.live.harness import Broker, Publisher

LEVY_CONF = Path(__file__).parents[2] / "deploy" / "mosquitto" / "levy.conf"


def settings() -> dict[str, str]:
    lines = [line.split("#")[0].split() for line in LEVY_CONF.read_text().splitlines()]
    return {line[0]: line[1] for line in lines if line}


def test_the_settings_the_daemon_relies_on() -> None:
    conf = settings()
    assert conf["persistence"] == "true"
    assert conf["max_queued_messages"] == "0"
    assert int(conf["autosave_interval"]) <= 60
    assert int(conf["message_size_limit"]) == DaemonConfig().max_payload_bytes


def test_a_payload_over_the_limit_stops_at_the_broker(tmp_path) -> None:
    own = "".join(
        f"{key} {value}\n" for key, value in settings().items() if key != "persistence_location"
    )
    broker = Broker(tmp_path / "broker", extra=own + "allow_anonymous true\n").start()
    inbox: queue.Queue[object] = queue.Queue()
    source = MqttSource(BrokerSettings("127.0.0.1", broker.port, "levy-conf", ("t/#",)), inbox)
    try:
        source.start()
        big = Publisher(broker.port)
        with contextlib.suppress(RuntimeError):  # Mosquitto drops a v3 client sending one
            big.raw("t/big", b"x" * 65_537)
        big.close()
        small = Publisher(broker.port)
        small.raw("t/small", b"x" * 65_536)
        small.close()
        received: list[Received] = []
        while not any(m.topic == "t/small" for m in received):
            item = inbox.get(timeout=10)
            if isinstance(item, Received):
                received.append(item)
            else:
                assert isinstance(item, LinkEvent)
    finally:
        source.stop()
        broker.stop()
    assert [m.topic for m in received] == ["t/small"]
    assert "autosave_interval" in (tmp_path / "broker" / "mosquitto.conf").read_text()
