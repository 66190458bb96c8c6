"""The worker's inbox: lists of messages handed over whole, in order with ticks and events,
bounded in messages."""

import queue
import threading

import pytest

from collector.mqtt import Received
from levy.app.inbox import Inbox


def messages(n: int, first: int = 0) -> list[Received]:
    return [Received(first + i, "t", b"", first + i, 1, 1) for i in range(n)]


def test_lists_and_other_items_come_out_in_order_and_whole() -> None:
    inbox: Inbox[str] = Inbox(limit=100)
    inbox.put(messages(3))
    inbox.put("tick")
    inbox.put(messages(2, first=3))
    assert inbox.qsize() == 6
    assert [inbox.get(timeout=0) for _ in range(3)] == [messages(3), "tick", messages(2, 3)]
    assert inbox.qsize() == 0
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0.01)


def test_the_bound_counts_messages_and_a_full_inbox_waits_for_the_worker() -> None:
    inbox: Inbox[str] = Inbox(limit=5)
    inbox.put(messages(4))
    inbox.put(messages(4, first=4))  # room was left: a list goes in whole
    with pytest.raises(queue.Full):
        inbox.put("tick", timeout=0.01)
    waiting = threading.Thread(target=inbox.put, args=("tick",))
    waiting.start()
    waiting.join(0.05)
    assert waiting.is_alive()
    assert inbox.get(timeout=0) == messages(4)
    assert inbox.get(timeout=0) == messages(4, 4)
    waiting.join(1)
    assert not waiting.is_alive()
    assert inbox.get(timeout=0) == "tick"
