"""What the MQTT process's network thread hands its sender, in the order paho delivered it.

A `queue.Queue` cost two lock round trips and a notification per message on each side; draining
a backlog that was a tenth of the process. Here a message is appended under one lock, the sender
is woken only when the outbox was empty (it waits only then), and it takes whole lists.
"""

import queue
import threading
from collections import deque
from typing import cast

from collector.mqtt import LinkEvent, Received

Wire = tuple[int, str, bytes, int, int, int]
"""A message as it crosses the pipe: `Received`'s fields as a plain tuple (pickled fastest)."""


class Outbox:
    def __init__(self, limit: int) -> None:
        self._items: deque[Wire | LinkEvent] = deque()
        self._limit = limit
        self._lock = threading.Lock()
        self._filled = threading.Condition(self._lock)
        self._emptied = threading.Condition(self._lock)

    def put(self, item: Received | LinkEvent, timeout: float | None = None) -> None:
        """Waits while `limit` items wait (queue.Full after `timeout` seconds): the
        back-pressure that stops paho reading the socket."""
        wire = item if isinstance(item, LinkEvent) else cast(Wire, tuple(item))
        with self._lock:
            items = self._items
            if len(items) >= self._limit and not self._emptied.wait_for(
                lambda: len(items) < self._limit, timeout
            ):
                raise queue.Full
            items.append(wire)
            if len(items) == 1:
                self._filled.notify()

    def take(self, most: int) -> list[Wire] | LinkEvent:
        """The oldest messages, up to `most` and up to the next link event; or that event.
        Waits for one."""
        with self._lock:
            items = self._items
            self._filled.wait_for(lambda: items)
            self._emptied.notify()
            first = items[0]
            if isinstance(first, LinkEvent):
                items.popleft()
                return first
            taken: list[Wire] = []
            while items and len(taken) < most:
                item = items[0]
                if isinstance(item, LinkEvent):
                    break
                taken.append(item)
                items.popleft()
            return taken
