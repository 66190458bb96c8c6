"""What the worker takes its work from, in order: the messages the MQTT process delivered, in the
lists they crossed the pipe in, the scheduler's ticks and the link's events.

A list is put and taken whole: draining a backlog, a queue handing over one message at a time
cost two lock round trips and a thread switch per message. The bound counts messages, not
lists, so a full inbox still holds about `limit` messages and pushes back on the MQTT process.
"""

import queue
import threading
from collections import deque
from typing import Generic, TypeVar

from collector.mqtt import Received

Item = TypeVar("Item")


class Inbox(Generic[Item]):
    def __init__(self, limit: int) -> None:
        self._items: deque[Item | list[Received]] = deque()
        self._waiting = 0
        self._limit = limit
        self._changed = threading.Condition()

    def put(self, item: Item | list[Received], timeout: float | None = None) -> None:
        """Waits while `limit` messages or more wait (queue.Full after `timeout` seconds); a
        list counts as its messages, anything else as one."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._waiting < self._limit, timeout):
                raise queue.Full
            self._items.append(item)
            self._waiting += _weight(item)
            self._changed.notify_all()

    def get(self, timeout: float) -> Item | list[Received]:
        """The oldest item; queue.Empty when none comes within `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._items, timeout):
                raise queue.Empty
            item = self._items.popleft()
            self._waiting -= _weight(item)
            self._changed.notify_all()
            return item

    def qsize(self) -> int:
        """Messages waiting (and ticks and events, one each)."""
        return self._waiting


def _weight(item: object) -> int:
    return len(item) if isinstance(item, list) else 1
