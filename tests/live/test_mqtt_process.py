"""The MQTT client in its process: a sweep the daemon asks for comes behind what the broker
holds for it (how the process ends with the daemon: test_children.py)."""

import queue
import time

from collector.mqtt import RECEIVE_MAXIMUM, BrokerSettings, LinkEvent, LinkKind, Received
from collector.mqtt_process import MARK_PATIENCE_MS, MqttProcess
from levy.app.inbox import Inbox
from levy.app.logs import LOG_FORMAT
from tests.live.harness import (
    Broker,
    publish_numbered,
)


class Reader:
    """The daemon's inbox as the worker reads it: every message acknowledged, events kept."""

    def __init__(self, source: MqttProcess, inbox: Inbox) -> None:
        self.source, self.inbox = source, inbox
        self.items: list[Received | LinkEvent] = []

    def until(self, kind: LinkKind, timeout_s: float = 30.0) -> list[Received | LinkEvent]:
        start = len(self.items)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            item = self.read(0.1)
            if isinstance(item, LinkEvent) and item.kind is kind:
                return self.items[start:]
        raise AssertionError(f"no {kind} in {timeout_s} s: {self.events()}")

    def settle(self, quiet_s: float = 0.5) -> None:
        """Read until nothing comes for `quiet_s`."""
        while self.read(quiet_s) is not None:
            pass

    def read(self, wait_s: float) -> list[Received] | LinkEvent | None:
        try:
            item = self.inbox.get(timeout=wait_s)
        except queue.Empty:
            return None
        if isinstance(item, list):
            self.items.extend(item)
            self.source.ack_all(item)
        else:
            self.items.append(item)
        return item

    def events(self) -> list[LinkEvent]:
        return [item for item in self.items if isinstance(item, LinkEvent)]


def test_a_sweep_waits_for_the_broker_once_the_backlog_is_read(tmp_path):
    """`mark` while no marker can be waited for puts "caught_up" at once (the worker deems
    nothing then); once drained, behind what the broker held, one marker at a time."""
    broker = Broker(tmp_path / "broker").start()
    inbox: Inbox[LinkEvent] = Inbox(100_000)
    settings = BrokerSettings("127.0.0.1", broker.port, "levy-sweep-test", ("t/#",))
    source = MqttProcess(settings, inbox, LOG_FORMAT)
    reader = Reader(source, inbox)
    try:
        source.mark(5)  # not connected yet
        assert reader.until(LinkKind.CAUGHT_UP) == [LinkEvent(LinkKind.CAUGHT_UP, 5, 0)]
        source.start()
        reader.until(LinkKind.DRAINED)
        publish_numbered(broker.port, 3 * RECEIVE_MAXIMUM)
        source.mark(10)
        source.mark(11)  # the marker of 10 is not back: this one waits for it
        source.mark(10 + MARK_PATIENCE_MS)  # it may have been dropped: ask again
        behind = reader.until(LinkKind.CAUGHT_UP)
        reader.settle()
        source.mark(12)  # a clock stepped back asks too
        reader.until(LinkKind.CAUGHT_UP)
    finally:
        source.stop()
        broker.stop()
    payloads = [item.payload for item in behind if isinstance(item, Received)]
    assert payloads == [f"{n}".encode() for n in range(3 * RECEIVE_MAXIMUM)]
    assert behind[-1] == LinkEvent(LinkKind.CAUGHT_UP, 10, 1)
    caught_up = [e.at_ms for e in reader.events() if e.kind is LinkKind.CAUGHT_UP]
    assert caught_up == [5, 10, 10 + MARK_PATIENCE_MS, 12]
