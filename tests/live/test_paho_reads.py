"""paho's client as the MQTT process runs it reads a waiting backlog many packets a turn, and
every message once, in order."""

import threading

from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from collector import paho_client
from tests.live.harness import Publisher

BACKLOG = 300


def test_a_backlog_is_read_many_packets_a_turn_in_order(broker) -> None:
    received: list[bytes] = []
    subscribed = threading.Event()
    client = paho_client.Client(
        CallbackAPIVersion.VERSION2, client_id="reads", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.connect("127.0.0.1", broker.port)
    client.subscribe("t/#", qos=1)
    while not subscribed.is_set():
        client.loop(1.0)
    publisher = Publisher(broker.port)
    for n in range(BACKLOG):
        publisher.raw("t/m", str(n).encode())
    per_turn: list[int] = []
    while len(received) < BACKLOG and len(per_turn) < BACKLOG:
        before = len(received)
        client.loop(1.0)
        per_turn.append(len(received) - before)
    client.disconnect()
    assert received == [str(n).encode() for n in range(BACKLOG)]
    assert max(per_turn) > 1  # paho's own loop reads one packet a turn, whatever waits
