"""Time for the simulator: the wall clock when live, simulated time when recording.

Live readings are stamped with the wall clock at the moment they are published, never with the
time they were due: the daemon refuses a payload time ahead of its own clock, and a late
publish (a slow broker, the rate cap) must not produce one. Recorded readings are stamped with
the simulated time they were due, which runs as fast as the machine allows unless a speed is
given. Every wait is on the stop event, so a signal ends the run at once.
"""

import threading
import time
from typing import Protocol

from levy.core.units import MS_PER_S


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock(Protocol):
    @property
    def start_ms(self) -> int: ...

    def wait_until(self, due_ms: int, stop: threading.Event) -> bool:
        """Wait for the due time; False when stopped meanwhile."""
        ...

    def stamp(self, due_ms: int) -> int:
        """The time a reading due at `due_ms` carries."""
        ...


class WallClock:
    """Live: simulated time is the wall clock."""

    def __init__(self) -> None:
        self.start_ms = wall_ms()

    def wait_until(self, due_ms: int, stop: threading.Event) -> bool:
        return not stop.wait(max(0, due_ms - wall_ms()) / MS_PER_S)

    def stamp(self, due_ms: int) -> int:
        return wall_ms()


class SimulatedClock:
    """Recorded: simulated time from `start_ms`, `speed` times as fast as the wall clock, or
    as fast as possible when `speed` is None."""

    def __init__(self, start_ms: int, speed: float | None) -> None:
        self.start_ms = start_ms
        self._speed = speed
        self._wall_start = time.monotonic()

    def wait_until(self, due_ms: int, stop: threading.Event) -> bool:
        if self._speed is None:
            return not stop.is_set()
        due = self._wall_start + (due_ms - self.start_ms) / MS_PER_S / self._speed
        return not stop.wait(max(0.0, due - time.monotonic()))

    def stamp(self, due_ms: int) -> int:
        return due_ms


class RateCap:
    """At most `rate` messages a wall-clock second, evenly spaced."""

    def __init__(self, rate: float) -> None:
        self._spacing = 1 / rate
        self._next = time.monotonic()

    def wait(self, stop: threading.Event) -> bool:
        """Wait for the next slot; False when stopped meanwhile."""
        delay = self._next - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return False
        self._next = max(self._next, time.monotonic()) + self._spacing
        return True
