"""The operator's run rate: the billed energy per second over the last day accounted, per supply,
from which the report projects a period that is not over yet to its end."""

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from levy.core.model import Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.units import MJ_PER_KWH, MS_PER_HOUR
from levy.ledger.store import Ledger

WINDOW_MS = 24 * MS_PER_HOUR


@dataclass(frozen=True)
class RunRate:
    since_ms: int
    as_of_ms: int
    """The run rate is the billed energy of [since, as_of): the last 24 h to the ledger clock,
    or since the period's coverage start when that is later."""
    end_ms: int
    energy_mj: dict[Supply, Fraction]
    """The billed energy of the window, exact."""
    segments: list[tuple[int, int, RateStep]]
    """The time left, [as_of, end), cut at the schedule's rate steps."""

    def remaining_mj(self, supply: Supply) -> Fraction:
        return self.energy_mj[supply] * (self.end_ms - self.as_of_ms) / self.window_ms

    def remaining_tenge(self, supply: Supply) -> Fraction:
        """The remaining energy at the rate in force in each part of the time left."""
        per_ms = self.energy_mj[supply] / self.window_ms
        return sum(
            (
                per_ms * (stop - start) * Fraction(step.per_kwh[supply]) / MJ_PER_KWH
                for start, stop, step in self.segments
            ),
            Fraction(0),
        )

    @property
    def window_ms(self) -> int:
        return self.as_of_ms - self.since_ms


BilledEnergy = Callable[[int, int], dict[Supply, Fraction]]
"""The billed energy of [start, end), exact (`window.billed_energy` on a ledger)."""


def measure_run_rate(
    ledger: Ledger,
    schedule: RateSchedule,
    coverage_start_ms: int,
    end_ms: int,
    billed: BilledEnergy,
) -> RunRate | None:
    """None when the period is over at the ledger clock, or nothing of it is accounted yet.
    `billed` reads the ledger's billed energy; it may remember its windows, since periods read
    at one clock (a month and its quarter) mostly share theirs."""
    as_of = ledger.clock_ms
    if not coverage_start_ms < as_of < end_ms:
        return None
    since = max(coverage_start_ms, as_of - WINDOW_MS)
    return RunRate(since, as_of, end_ms, billed(since, as_of), schedule.segments(as_of, end_ms))
