"""The loop joining the parts: the schedule's readings, through the encoders, into a sink."""

import threading
from collections import Counter
from typing import Protocol
from zoneinfo import ZoneInfo

from collector.formats import encode
from collector.message import Message

from .fleet import Event, Fleet
from .pacing import Clock, RateCap


class Sink(Protocol):
    def send(self, message: Message) -> None:
        """Deliver one message, sent by its device at `message.received_ms`."""
        ...


def drive(
    fleet: Fleet,
    zone: ZoneInfo,
    clock: Clock,
    end_ms: int | None,
    sink: Sink,
    stop: threading.Event,
    cap: RateCap | None = None,
) -> Counter[Event]:
    """Run the schedule until `end_ms` or until `stop` is set; the messages sent, by the event
    of the reading they belong to (a garbled mbmd reading sends its spoilt `Import` and an
    intact `Power`: both count as malformed)."""
    sent: Counter[Event] = Counter()
    for due_ms, device in fleet.schedule(clock.start_ms, end_ms):
        if not clock.wait_until(due_ms, stop):
            break
        event, frame = device.tick(clock.stamp(due_ms))
        if frame is None:
            continue
        for message in encode(frame, zone):
            if cap is not None and not cap.wait(stop):
                return sent
            sink.send(message)
            sent[event] += 1
    return sent
