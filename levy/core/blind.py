"""The daemon's blind time (rule 6): while it is not running, not connected, or still reading the
backlog its broker kept, no meter can be heard, so that time is nobody's meter's fault and does
not count toward any meter's staleness.

Spans come from the daemon's journal (its archive), so a replay of the archive knows exactly the
blind time the daemon knew.
"""

from bisect import bisect_left
from collections.abc import Iterable


class Blindness:
    def __init__(self, spans: Iterable[tuple[int, int]] = (), since_ms: int | None = None) -> None:
        self.spans = sorted(spans)
        """Closed spans [start, end), not overlapping, in order."""
        self.since_ms = since_ms
        """The start of the span still open, if the daemon is blind now."""
        self._ends = [end for _, end in self.spans]

    @property
    def blind(self) -> bool:
        return self.since_ms is not None

    @property
    def never(self) -> bool:
        """Never blind: no span, none open (a replay of a recording, a daemon never down)."""
        return self.since_ms is None and not self.spans

    def begin(self, at_ms: int) -> bool:
        """Blind from `at_ms` (kept if already blind); True if this changed anything."""
        if self.since_ms is not None:
            return False
        self.since_ms = max(at_ms, self._ends[-1] if self._ends else at_ms)
        return True

    def end(self, at_ms: int) -> tuple[int, int] | None:
        """Seeing again from `at_ms`: the span just closed, if there was one."""
        if self.since_ms is None:
            return None
        span = (self.since_ms, max(self.since_ms, at_ms))
        self.since_ms = None
        if span[1] > span[0]:
            self.spans.append(span)
            self._ends.append(span[1])
        return span

    def began(self, at_ms: int) -> int | None:
        """The start of the blindness `at_ms` lies in (its end included), if any."""
        if self.since_ms is not None and self.since_ms <= at_ms:
            return self.since_ms
        index = bisect_left(self._ends, at_ms)
        if index < len(self.spans) and self.spans[index][0] <= at_ms:
            return self.spans[index][0]
        return None

    def overlap(self, start_ms: int, end_ms: int) -> int:
        """Milliseconds of blind time within [start, end)."""
        if end_ms <= start_ms:
            return 0
        total = 0
        for span_start, span_end in self.spans[bisect_left(self._ends, start_ms + 1) :]:
            if span_start >= end_ms:
                break
            total += min(span_end, end_ms) - max(span_start, start_ms)
        if self.since_ms is not None and self.since_ms < end_ms:
            total += end_ms - max(self.since_ms, start_ms)
        return total
