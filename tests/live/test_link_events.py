"""The link to the broker, against a real Mosquitto: the drain marker arrives behind the whole
backlog of a persistent session, a refused marker is said once, a session taken over by a second
client with our id is an ERROR, and a session the broker no longer has is a WARNING."""

import logging
import queue
import time

import paho.mqtt.client as mqtt
import pytest

from collector.mqtt import RECEIVE_MAXIMUM, BrokerSettings, LinkEvent, MqttSource, Received
from tests.live.harness import Broker, publish_numbered, wait_until

CLIENT_ID = "levy-link-test"
BACKLOG = 2 * RECEIVE_MAXIMUM + 500
"""More than the Receive Maximum we announce: the marker must wait for acks too."""


class Source:
    """An MqttSource with its inbox, read the way the worker reads it (acking every message)."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("t/#",), client_id: str = CLIENT_ID):
        self.inbox: queue.Queue[object] = queue.Queue(maxsize=10_000)
        settings = BrokerSettings("127.0.0.1", port, client_id, topics)
        self.source = MqttSource(settings, self.inbox)
        self.items: list[object] = []

    def __enter__(self) -> "Source":
        self.source.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.source.stop()

    def read_until(self, kind: str, timeout_s: float = 30.0) -> list[object]:
        """Everything queued up to and including the first LinkEvent of `kind`, acking messages
        as they come (the broker sends no more than Receive Maximum unacknowledged)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                item = self.inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            self.items.append(item)
            if isinstance(item, Received):
                self.source.ack_ids([(item.session, item.mid, item.qos)])
            elif isinstance(item, LinkEvent) and item.kind == kind:
                return self.items
        raise AssertionError(f"no {kind!r} event in {timeout_s} s; got {self.events()}")

    def events(self) -> list[tuple[str, int]]:
        return [(e.kind, e.session) for e in self.items if isinstance(e, LinkEvent)]

    def drain(self, wait_s: float = 0.5) -> None:
        """Read whatever else arrives within `wait_s`."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                self.items.append(self.inbox.get(timeout=0.05))
            except queue.Empty:
                continue


def publish_raw(port: int, topic: str, payload: str | bytes) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raw-{port}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize("topics", [("t/#",), ("#",)], ids=["own-topics", "everything"])
def test_drained_comes_after_the_whole_backlog(broker, topics, caplog) -> None:
    caplog.set_level(logging.INFO, "levy.mqtt")
    with Source(broker.port, topics) as first:
        first.read_until("drained")
    assert first.events() == [("connected", 1), ("drained", 1)]
    assert "has no session for levy-link-test" in caplog.text

    publish_numbered(broker.port, BACKLOG)  # while nobody is connected: queued in the session

    caplog.clear()
    with Source(broker.port, topics) as second:
        items = second.read_until("drained")
        second.drain()
    messages = [item for item in items if isinstance(item, Received)]
    assert isinstance(items[0], LinkEvent) and items[0].kind == "connected"
    assert isinstance(items[-1], LinkEvent) and items[-1].kind == "drained"
    assert items[0].session == items[-1].session == 1
    assert [m.payload for m in messages] == [f"{n}".encode() for n in range(BACKLOG)]
    assert all(m.topic == "t/rig-0" for m in second.items if isinstance(m, Received))
    assert second.events() == [("connected", 1), ("drained", 1)], "one drained, copies ignored"
    assert "no session" not in caplog.text, "the session was resumed"


@pytest.mark.parametrize("topics", [("t/#",), ("#",)], ids=["own-topics", "everything"])
def test_caught_up_comes_after_what_the_broker_held_when_it_was_asked_for(broker, topics) -> None:
    """A connected daemon behind its feed: the broker holds more than the Receive Maximum when
    the marker is asked for, and "caught_up" comes behind all of it, once, with the time it was
    asked for; another process's marker with a time is only acknowledged."""
    with Source(broker.port, topics) as link:
        link.read_until("drained")
        publish_numbered(broker.port, BACKLOG)  # not read yet: the broker holds most of it
        publish_raw(broker.port, "levy/drain/levy-link-test", b'{"token": "0", "at_ms": 99}')
        link.source.mark(1_234)
        items = link.read_until("caught_up")
        link.drain()
    messages = [item for item in items if isinstance(item, Received)]
    assert [m.payload for m in messages] == [f"{n}".encode() for n in range(BACKLOG)]
    assert items[-1] == LinkEvent("caught_up", 1_234, 1)
    assert link.events() == [("connected", 1), ("drained", 1), ("caught_up", 1)]


def test_a_batch_acknowledged_in_one_write_is_not_delivered_again(broker) -> None:
    """`ack_ids` sends a committed batch's PUBACKs at once: the broker takes every one of them
    (it sends a backlog bigger than the Receive Maximum only as they come), and once it has read
    them (a marker published after them came back) the session holds none of the messages."""
    with Source(broker.port) as link:
        link.read_until("drained")
        publish_numbered(broker.port, BACKLOG)
        received: list[Received] = []
        while len(received) < BACKLOG:
            link.drain(wait_s=0.3)
            batch = [item for item in link.items if isinstance(item, Received)][len(received) :]
            assert batch, f"the broker stopped after {len(received)} messages"
            link.source.ack_ids([(m.session, m.mid, m.qos) for m in batch])
            received += batch
        link.source.mark(1)  # the broker reads our packets in order: the acks before this
        link.read_until("caught_up")
    assert [m.payload for m in received] == [f"{n}".encode() for n in range(BACKLOG)]
    with Source(broker.port) as again:
        again.read_until("drained")
        again.drain()
    assert not [item for item in again.items if isinstance(item, Received)]


def test_markers_of_earlier_connections_are_only_acknowledged(broker) -> None:
    """Markers still queued from connections that went away before they came back (this
    process's, and an earlier process's with the same session number) end no drain: each
    connection waits for its own."""
    with Source(broker.port) as link:
        link.read_until("drained")
    token = link.source._token
    publish_raw(broker.port, "levy/drain/levy-link-test", b'{"token": "0", "session": 2}')
    publish_numbered(broker.port, 100)
    publish_raw(broker.port, "levy/drain/levy-link-test", f'{{"token": "{token}", "session": 1}}')
    publish_numbered(broker.port, 100)

    link.source.stopping = False  # the same process connects again: its session 2
    link.source.client.reconnect()
    link.source.client.loop_start()
    try:
        items = link.read_until("drained")
        link.drain()
    finally:
        link.source.stop()
    assert link.events() == [("connected", 1), ("drained", 1), ("connected", 2), ("drained", 2)]
    assert items[-1] == LinkEvent("drained", items[-1].at_ms, 2)
    messages = [m for m in link.items if isinstance(m, Received)]
    assert [m.payload for m in messages] == [f"{n}".encode() for n in range(100)] * 2


def test_a_refused_marker_is_said_once(tmp_path, caplog) -> None:
    """Mosquitto drops a client whose publish its ACL refuses: after the first refusal no more
    markers are sent, so the link does not flap, and each connection says drain_refused."""
    caplog.set_level(logging.INFO, "levy.mqtt")
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite t/#\n")
    extra = f"allow_anonymous true\nacl_file {acl}\n"
    broker = Broker(tmp_path / "broker", extra=extra).start()
    try:
        with Source(broker.port) as link:
            link.read_until("drain_refused")
            link.read_until("connected")
            link.read_until("drain_refused")
            publish_numbered(broker.port, 2)
            link.drain(2.5)  # longer than the reconnect delay: no further flap
    finally:
        broker.stop()
    assert link.events() == [
        ("connected", 1),
        ("drain_refused", 1),
        ("disconnected", 1),
        ("connected", 2),
        ("drain_refused", 2),
    ]
    refusals = [r for r in caplog.records if "levy/drain/#" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING
    assert "Not authorized" in refusals[0].getMessage()
    assert [m.payload for m in link.items if isinstance(m, Received)] == [b"0", b"1"]


def test_a_session_taken_over_is_an_error_naming_the_client_id(broker, caplog) -> None:
    """Two daemons on one client id (a copied configuration): Mosquitto 2.0 closes the older
    connection without a reason code, both reconnect and knock each other off; that is said
    as an ERROR naming the id, once (not at every reconnect)."""
    caplog.set_level(logging.INFO, "levy.mqtt")

    def errors() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]

    with Source(broker.port) as first:
        first.read_until("drained")
        with Source(broker.port) as second:
            second.read_until("drained")
            wait_until(lambda: errors(), timeout_s=20, what="the takeover's ERROR")
            time.sleep(2)
    said = errors()
    assert len(said) in (1, 2), said  # once per daemon at most
    assert "'levy-link-test'" in said[0]
    assert "two daemons (or a copied configuration) share it" in said[0]
    assert "another client connected with our client id" in said[0]
    assert ("disconnected", 1) in first.events() + [
        (e.kind, e.session) for e in list(first.inbox.queue) if isinstance(e, LinkEvent)
    ]


def test_a_session_the_broker_lost_is_a_warning(broker, caplog) -> None:
    """The broker restarted without its persistence file (SIGKILL before its autosave, or
    persistence off): the queued backlog is gone, and the daemon says so."""
    caplog.set_level(logging.INFO, "levy.mqtt")
    with Source(broker.port) as link:
        link.read_until("drained")
    broker.restart()  # with its persistence: the session is kept
    caplog.clear()
    with Source(broker.port) as link:
        link.read_until("drained")
    assert "no session" not in caplog.text
    assert "session resumed" in caplog.text

    broker.stop()
    (broker.folder / "mosquitto.db").unlink()
    broker.start()
    caplog.clear()
    with Source(broker.port) as link:
        link.read_until("drained")
    warnings = [r for r in caplog.records if "has no session for" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "may be lost" in warnings[0].getMessage()
