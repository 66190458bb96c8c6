"""A queued QoS 1 backlog on a real Mosquitto: persistent sessions made for each contender
first, then the messages published once, so every session holds the same backlog.

Every contender connects as the daemon does: MQTT v5, clean_start off, the daemon's session
expiry and Receive Maximum, QoS 1 subscriptions.
"""

import threading
import time
from collections.abc import Iterator
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mqtt import RECEIVE_MAXIMUM, SESSION_EXPIRY_S

TOPIC_PREFIX = "bench"
INTERVAL_MS = 10_000
UNACKED_MAX = 20_000
"""Message ids are 16 bits: a publisher must not have more than that waiting for their PUBACK."""


def connect_properties() -> Properties:
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = SESSION_EXPIRY_S
    properties.ReceiveMaximum = RECEIVE_MAXIMUM
    return properties


def v5_client(client_id: str, **options: object) -> mqtt.Client:
    return mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        **options,  # type: ignore[arg-type]
    )


def make_session(port: int, client_id: str, topics: list[str]) -> None:
    """Connect once with clean_start off and subscribe: the broker keeps what comes after."""
    client = v5_client(client_id)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", port, clean_start=False, properties=connect_properties())
    client.loop_start()
    client.subscribe([(topic, 1) for topic in topics])
    if not subscribed.wait(10):
        raise RuntimeError(f"no SUBACK for {client_id}")
    client.disconnect()
    client.loop_stop()


def payloads(meters: int, readings: int, start_ms: int) -> Iterator[tuple[str, bytes]]:
    """Native payloads, one per meter every 10 s, each meter's register counting 1 kW."""
    for step in range(readings):
        for meter in range(meters):
            ms = start_ms + step * INTERVAL_MS + meter * INTERVAL_MS // meters
            kwh = f"{1000 + ms / 3_600_000:.8f}"
            payload = f'{{"ts": {ms // 1000}.{ms % 1000:03d}, "energy_kwh": {kwh}}}'
            yield f"{TOPIC_PREFIX}/rig-{meter:05d}", payload.encode()


def publish(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Publish at QoS 1 and wait until the broker acknowledged every one; the seconds taken."""
    client = v5_client("bench-publisher")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    done = threading.Condition()
    acked = 0

    def on_publish(*_: object) -> None:
        nonlocal acked
        with done:
            acked += 1
            done.notify_all()

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    began = time.perf_counter()
    for sent, (topic, payload) in enumerate(messages):
        if sent - acked > UNACKED_MAX:
            low = sent - UNACKED_MAX // 2
            with done:
                done.wait_for(lambda low=low: acked >= low, timeout=60)
        client.publish(topic, payload, qos=1)
    with done:
        if not done.wait_for(lambda: acked >= len(messages), timeout=600):
            raise RuntimeError(f"the broker acknowledged {acked} of {len(messages)}")
    spent = time.perf_counter() - began
    client.disconnect()
    client.loop_stop()
    return spent


def backlog_start_ms(readings: int) -> int:
    """Readings that end a little before now: a backlog of the recent past."""
    now = datetime.now().timestamp()
    return int((now - readings * INTERVAL_MS / 1000 - 60) * 1000)
