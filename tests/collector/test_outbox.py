"""The MQTT process's outbox: in paho's order, split at each link event, bounded."""

import queue
import threading

import pytest

from collector.mqtt import LinkEvent, LinkKind, Received
from collector.outbox import Outbox


def message(mid: int) -> Received:
    return Received(1_000 + mid, f"t/{mid}", b"{}", mid, 1, 1)


def test_messages_cross_as_plain_tuples_up_to_the_most_asked() -> None:
    outbox = Outbox(10)
    for mid in range(5):
        outbox.put(message(mid))
    first = outbox.take(3)
    assert first == [tuple(message(mid)) for mid in range(3)]
    assert all(type(wire) is tuple for wire in first)
    assert outbox.take(3) == [tuple(message(3)), tuple(message(4))]


def test_a_link_event_comes_alone_between_the_messages_around_it() -> None:
    outbox = Outbox(10)
    event = LinkEvent(LinkKind.DRAINED, 5, 1)
    for item in (message(1), message(2), event, message(3)):
        outbox.put(item)
    assert outbox.take(100) == [tuple(message(1)), tuple(message(2))]
    assert outbox.take(100) is event
    assert outbox.take(100) == [tuple(message(3))]


def test_a_full_outbox_pushes_back_until_the_sender_takes() -> None:
    outbox = Outbox(2)
    outbox.put(message(1))
    outbox.put(message(2))
    with pytest.raises(queue.Full):
        outbox.put(message(3), timeout=0.05)
    taker = threading.Timer(0.05, outbox.take, args=(1,))
    taker.start()
    outbox.put(message(3), timeout=5)
    taker.join()
    assert outbox.take(10) == [tuple(message(2)), tuple(message(3))]


def test_the_sender_waits_for_the_first_message() -> None:
    outbox = Outbox(10)
    threading.Timer(0.05, outbox.put, args=(message(7),)).start()
    assert outbox.take(10) == [tuple(message(7))]
