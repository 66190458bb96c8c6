"""The effective-dated levy rates, per supply type."""

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from levy.core.model import Supply


@dataclass(frozen=True, slots=True)
class RateStep:
    from_ms: int
    per_kwh: dict[Supply, Decimal]


class NoRateError(LookupError):
    """Energy was consumed before the first configured rate took effect."""


class RateSchedule:
    def __init__(self, steps: list[RateStep]) -> None:
        if not steps:
            raise ValueError("a rate schedule needs at least one step")
        self.steps = sorted(steps, key=lambda step: step.from_ms)
        self.boundaries = [step.from_ms for step in self.steps]

    def step_at(self, ms: int) -> RateStep:
        step = _step_or_none(self, ms)
        if step is None:
            raise NoRateError(f"no levy rate is in force before the first rate step ({ms} ms)")
        return step

    def next_boundary(self, ms: int) -> int | None:
        """The first rate change strictly after `ms`, if any."""
        index = bisect_right(self.boundaries, ms)
        return self.boundaries[index] if index < len(self.boundaries) else None

    def segments(self, start_ms: int, end_ms: int) -> list[tuple[int, int, RateStep]]:
        """The pieces of [start, end) that each lie under one rate step; nothing is levied before
        the first step, and the accounting start is checked against it."""
        pieces = []
        cursor = max(start_ms, self.boundaries[0])
        while cursor < end_ms:
            nxt = self.next_boundary(cursor)
            stop = end_ms if nxt is None else min(nxt, end_ms)
            pieces.append((cursor, stop, self.step_at(cursor)))
            cursor = stop
        return pieces


def differing_spans(old: RateSchedule, new: RateSchedule) -> list[tuple[int, int | None]]:
    """The spans [start, end) (end None: for good) in which the two schedules charge a different
    rate or cut at a different step: what a change of `[[rates]]` would re-rate."""
    spans: list[tuple[int, int | None]] = []
    cuts = sorted(set(old.boundaries) | set(new.boundaries))
    for index, cut in enumerate(cuts):
        if _step_or_none(old, cut) == _step_or_none(new, cut):
            continue
        end = cuts[index + 1] if index + 1 < len(cuts) else None
        if spans and spans[-1][1] == cut:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((cut, end))
    return spans


def _step_or_none(schedule: RateSchedule, ms: int) -> RateStep | None:
    index = bisect_right(schedule.boundaries, ms) - 1
    return schedule.steps[index] if index >= 0 else None
