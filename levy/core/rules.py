"""Rules 1 to 7 of the levy: what one reading or one sweep does to one meter.

Each function is pure: the meter's state and the moment come in, the new state and at most one
whole interval come out. Splitting and storage happen elsewhere.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from levy.core.blind import never_blind, not_blind
from levy.core.model import (
    Basis,
    DeemedReason,
    Interval,
    Measure,
    Reading,
    Rejection,
    RejectReason,
    Supply,
)


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """A meter as configured now; what it bills is stored with each interval (see engine.py)."""

    id: str
    rated_w: int
    supply: Supply
    measure: Measure | None
    """Pinned by configuration, or None: the first valid reading decides (rule 5)."""
    start_ms: int
    """The meter's accounting start: max(ledger accounting start, commissioned_at)."""
    end_ms: int | None = None
    """decommissioned_at: accounted up to here, then out of coverage."""


@dataclass(frozen=True, slots=True)
class Rules:
    stale_after_ms: int = 900_000
    implausible_factor: Fraction = Fraction(6, 5)
    max_clock_skew_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class Baseline:
    t_ms: int
    value: int
    """The register in mJ, or the power in mW for a power-only meter."""


@dataclass(frozen=True, slots=True)
class MeterState:
    accrued_ms: int
    baseline: Baseline | None = None
    faults: tuple[int, ...] = ()
    """Rule 4: the times of the faults not yet ended by a later valid reading, in order. The
    meter is faulty from the earliest; keeping each (not only the earliest) makes the result
    independent of the order in which faults and older readings are delivered."""
    measure: Measure | None = None
    """Rule 5: what the meter's first valid reading reported, kept for good."""

    def faulty_at(self, t_ms: int) -> bool:
        return bool(self.faults) and self.faults[0] < t_ms

    def faults_after(self, t_ms: int) -> tuple[int, ...]:
        """The faults a valid reading at `t_ms` leaves standing: those not before it."""
        return tuple(f for f in self.faults if f >= t_ms)


Outcome = tuple[MeterState, Interval | None]
BlindTime = Callable[[int, int], int]
"""Milliseconds of the daemon's blind time within [start, end) (see blind.py)."""
BlindStart = Callable[[int], int | None]
"""The start of the daemon's blindness an instant falls in, if any (see blind.py)."""


def initial_state(spec: MeterSpec) -> MeterState:
    return MeterState(accrued_ms=spec.start_ms, measure=spec.measure)


def deemed(spec: MeterSpec, start_ms: int, end_ms: int, reason: DeemedReason) -> Interval:
    """Rule 7: consumption at the maximum rated load (W x ms is exactly mJ)."""
    energy = spec.rated_w * (end_ms - start_ms)
    return Interval(spec.id, start_ms, end_ms, Basis.DEEMED, reason, energy)


def rounded_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def measure_of(state: MeterState, reading: Reading) -> Measure:
    """Rule 5: the kept choice, else what this (first valid) reading reports."""
    if state.measure is not None:
        return state.measure
    return Measure.ENERGY if reading.energy_mj is not None else Measure.POWER


def reading_value(measure: Measure, reading: Reading) -> int | None:
    return reading.energy_mj if measure is Measure.ENERGY else reading.power_mw


def on_receive_clock(rules: Rules, reading: Reading) -> Reading:
    """Rule 1: a time ahead of the receive time (within max_clock_skew) counts as the receive
    time, so a clock running ahead cannot push the baseline past the readings that follow."""
    ahead = reading.ts_ms - reading.received_ms
    if 0 < ahead <= rules.max_clock_skew_ms:
        return replace(reading, ts_ms=reading.received_ms)
    return reading


def stale(rules: Rules, since_ms: int, now_ms: int, blind: BlindTime) -> bool:
    """More than stale_after since `since_ms`, the daemon's blind time not counted (rule 6)."""
    gap = now_ms - since_ms
    return gap > rules.stale_after_ms and gap - blind(since_ms, now_ms) > rules.stale_after_ms


def screen(spec: MeterSpec, rules: Rules, state: MeterState, reading: Reading) -> Rejection | None:
    """Rule 1: the readings that have no effect at all."""
    if reading.ts_ms > reading.received_ms + rules.max_clock_skew_ms:
        ahead_ms = reading.ts_ms - reading.received_ms
        return Rejection(RejectReason.CLOCK_SKEW, f"ts {ahead_ms} ms ahead of receipt", spec.id)
    if spec.end_ms is not None and reading.ts_ms > spec.end_ms:
        return Rejection(RejectReason.DECOMMISSIONED, "after the meter's decommissioning", spec.id)
    if state.baseline is not None and reading.ts_ms <= state.baseline.t_ms:
        return Rejection(RejectReason.DUPLICATE, "not after the last valid reading", spec.id)
    if reading.fault:
        return None
    measure = measure_of(state, reading)
    if reading_value(measure, reading) is None:
        return Rejection(
            RejectReason.MISSING_FIELD,
            f"meter {spec.id} is billed on {measure.value} and this reading has none",
            spec.id,
        )
    return None


def apply_reading(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    reading: Reading,
    blind: BlindTime = not_blind,
    blind_began: BlindStart = never_blind,
) -> Outcome:
    """Rules 2 to 5 for a reading that passed `screen`.

    A backlog read after the daemon's blindness arrives in a burst; a reading in it stamped only
    with its delivery time (no time of its own, or one ahead of it) says nothing of when its
    energy was used, and neither does a baseline such a reading left. So the average power of a
    delivery-stamped reading is judged from the start of the blindness its baseline or itself
    falls in, not over the moment of the burst."""
    t = reading.ts_ms
    if reading.fault:
        return replace(state, faults=tuple(sorted({*state.faults, t}))), None
    measure = measure_of(state, reading)
    value = reading_value(measure, reading)
    assert value is not None
    moved = MeterState(
        accrued_ms=max(state.accrued_ms, t),
        baseline=Baseline(t, value),
        faults=state.faults_after(t),
        measure=measure,
    )
    if t <= state.accrued_ms:
        return moved, None
    plausible_from = state.baseline.t_ms if state.baseline else t
    if reading.ts_ms == reading.received_ms:
        starts = (blind_began(plausible_from), blind_began(t))
        plausible_from = min([plausible_from, *(s for s in starts if s is not None)])
    return moved, interval_to(spec, rules, state, t, value, measure, blind, plausible_from)


def interval_to(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    t: int,
    value: int,
    measure: Measure,
    blind: BlindTime,
    plausible_from: int,
) -> Interval:
    """Rule 3: [accrued, t] as one interval, the deemed reasons checked in their order."""
    reason = deemed_reason(spec, rules, state, t, value, measure, blind, plausible_from)
    if reason is not None:
        return deemed(spec, state.accrued_ms, t, reason)
    energy = metered_energy(state, t, value, measure)
    return Interval(spec.id, state.accrued_ms, t, Basis.METERED, None, energy)


def deemed_reason(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    t: int,
    value: int,
    measure: Measure,
    blind: BlindTime = not_blind,
    plausible_from: int | None = None,
) -> DeemedReason | None:
    """`plausible_from`: where the average power is measured from (the baseline's time unless
    apply_reading says otherwise)."""
    base = state.baseline
    if base is None:
        return DeemedReason.NO_BASELINE
    if state.faulty_at(t):
        return DeemedReason.METER_FAULT
    if stale(rules, base.t_ms, t, blind):
        return DeemedReason.NO_DATA
    factor = rules.implausible_factor
    if measure is Measure.ENERGY:
        if value < base.value:
            return DeemedReason.REGISTER_DECREASE
        since = base.t_ms if plausible_from is None else plausible_from
        energy, span = value - base.value, t - since  # mJ per ms is W
    else:
        energy, span = base.value + value, 2000  # (P0 + P1) / 2 in mW, as W
    if energy * factor.denominator > spec.rated_w * factor.numerator * span:
        return DeemedReason.IMPLAUSIBLE
    return None


def metered_energy(state: MeterState, t: int, value: int, measure: Measure) -> int:
    """The register's share from `accrued` (all of it when accrued is the baseline's time), or
    the power trapezoid over [accrued, t]."""
    base = state.baseline
    assert base is not None
    if measure is Measure.ENERGY:
        return rounded_ratio((value - base.value) * (t - state.accrued_ms), t - base.t_ms)
    return rounded_ratio((base.value + value) * (t - state.accrued_ms), 2000)


def sweep(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    now_ms: int,
    blind: BlindTime = not_blind,
) -> Outcome:
    """Rule 6: deem [accrued, now] for a meter that is faulty or has gone quiet; a decommissioned
    meter only up to its decommissioning."""
    end_ms = now_ms if spec.end_ms is None else min(now_ms, spec.end_ms)
    if end_ms <= state.accrued_ms:
        return state, None
    base = state.baseline
    faulty = state.faulty_at(now_ms)
    if base is None:
        quiet = stale(rules, spec.start_ms, now_ms, blind)
        reason = DeemedReason.NO_BASELINE
    else:
        quiet = stale(rules, base.t_ms, now_ms, blind)
        reason = DeemedReason.METER_FAULT if faulty else DeemedReason.NO_DATA
    if not (quiet or faulty):
        return state, None
    return replace(state, accrued_ms=end_ms), deemed(spec, state.accrued_ms, end_ms, reason)
