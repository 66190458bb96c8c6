"""How replay's two processes share each batch's routing (see `routed_feed`): the reading process
routes a batch's first lines, the engine's process the rest, where the router `shares` them (a
stateful router's, a Shelly's, only where the rest holds no partial status frame; the reading
process's router observes them).

The reading process also reads and sends every line, the engine's process applies them, and which
of the two takes longer depends on the feed and the site, so the engine's share is steered after
every batch towards both being as busy. A batch routed in two parts is the batch routed in one
(`route_rest`), whatever the share: the share changes how fast, never what.
"""

import mmap
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from collector.router import Router
from levy.app.ingest import Delivered, Routed, route_rest


class Busy(NamedTuple):
    """A process's busy seconds per line of a batch, and the part of the lines it routed."""

    per_line_s: float
    routed: float


def balanced_share(reading: Busy, engine: Busy, route_s: float) -> float:
    """The engine's part of the routing at which both processes would be as busy per line:
    each is busy with what it does besides routing, plus its part of routing (`route_s` a
    line)."""
    reading_rest = reading.per_line_s - route_s * reading.routed
    engine_rest = engine.per_line_s - route_s * engine.routed
    return (reading_rest - engine_rest + route_s) / (2 * route_s)


class Balance:
    """The share, and what the reading process last measured, in a page of memory the two
    processes share: made before the fork."""

    FIRST = 0.5
    """The engine's share of the first batch, which it would otherwise wait for idle: the
    reading process sends its lines before routing its part, so the two route at once."""
    LEAST, MOST = 0.02, 0.9
    """Never nothing, so that the engine's process goes on timing its routing."""
    LEAST_LINES = 100
    """A part smaller is not worth a message of its own: the reading process routes such a batch
    whole, and it is not timed. Low enough that the daemon's archive, replayed in its batches of
    500, is shared too: routed whole by the reading process, they left the engine's process
    waiting for half of a Shelly archive's replay (README, What counted)."""

    def __init__(self, router_of: Callable[[], Router]) -> None:
        self._router_of = router_of
        self._router: Router | None = None
        self._shared = memoryview(mmap.mmap(-1, mmap.PAGESIZE)).cast("d")
        """The engine's share; the reading process's last `Busy`."""
        self._shared[0] = self.FIRST
        self._steered = False
        self._route_s = 0.0
        """The engine's process: the seconds it took to route its part of the current batch."""

    def kept(self, router: Router, batch: Sequence[Delivered]) -> int:
        """The reading process: how many of a batch's first lines it routes."""
        lines = len(batch)
        part = round(lines * self._shared[0])
        if part < self.LEAST_LINES:
            return lines
        if not router.shares(line.topic for line in batch[lines - part :]):
            return lines
        return lines - part

    def sent(self, busy_s: float, lines: int, routed_to: int) -> None:
        """The reading process: it was busy `busy_s` over a batch (reading, routing, packing)."""
        self._shared[1], self._shared[2] = busy_s / lines, routed_to / lines

    def route_rest(self, lines: Sequence[Delivered], routed_to: int) -> Routed:
        """The engine's process: the lines the reading process left (from `routed_to`), routed
        apart, for the reading process's part to be joined in front of (`Routed.extend`)."""
        if self._router is None:
            self._router = self._router_of()
        began = time.perf_counter()
        rest = Routed([], [], [0] * len(lines), [None] * len(lines))
        route_rest(self._router, lines[routed_to:], rest, routed_to)
        self._route_s = time.perf_counter() - began
        return rest

    def applied(self, busy_s: float, lines: int, routed_to: int) -> None:
        """The engine's process, busy `busy_s` over a batch: the share steered to where both
        processes would have been as busy; after the first batch, halfway there (one batch's
        timing is noisy)."""
        own, route_s, self._route_s = lines - routed_to, self._route_s, 0.0
        reading = Busy(self._shared[1], self._shared[2])
        if own == 0 or route_s == 0 or reading.per_line_s == 0:
            return
        engine = Busy(busy_s / lines, own / lines)
        balanced = balanced_share(reading, engine, route_s / own)
        steered = (self._shared[0] + balanced) / 2 if self._steered else balanced
        self._shared[0], self._steered = min(max(steered, self.LEAST), self.MOST), True
