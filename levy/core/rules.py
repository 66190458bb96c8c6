"""Rules 1 to 7 of the levy: what one reading or one sweep does to one meter.

Each function is pure: the meter's state and the moment come in, the new state and at most one
whole interval come out. Splitting and storage happen elsewhere.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from levy.core.blind import Blindness
from levy.core.model import (
    Basis,
    DeemedReason,
    Interval,
    Measure,
    Reading,
    Rejection,
    RejectReason,
    Role,
    Supply,
    from_fields,
    new_interval,
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
    role: Role = Role.BILLED


@dataclass(frozen=True, slots=True)
class Rules:
    stale_after_ms: int = 900_000
    implausible_factor: Fraction = Fraction(6, 5)
    max_clock_skew_ms: int = 300_000
    implausible_ratio: tuple[int, int] = field(init=False, repr=False, compare=False)
    """`implausible_factor` as (numerator, denominator): a Fraction's are properties, and
    every metered reading asks."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "implausible_ratio", self.implausible_factor.as_integer_ratio())


class Baseline(NamedTuple):
    t_ms: int
    value: int
    """The register in mJ, or the power in mW for a power-only meter."""


class MeterState(NamedTuple):
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


new_baseline, new_state = from_fields(Baseline), from_fields(MeterState)


Outcome = tuple[MeterState, Interval | None]

ENERGY, METERED = Measure.ENERGY, Basis.METERED
"""What every reading asks, as names of this module: an enum member looked up on its class
costs more than the rest of such a comparison (Python 3.11)."""


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
    return reading.energy_mj if measure is ENERGY else reading.power_mw


def on_receive_clock(rules: Rules, reading: Reading) -> Reading:
    """Rule 1: a time ahead of the receive time (within max_clock_skew) counts as the receive
    time, so a clock running ahead cannot push the baseline past the readings that follow."""
    ahead = reading.ts_ms - reading.received_ms
    if 0 < ahead <= rules.max_clock_skew_ms:
        return reading._replace(ts_ms=reading.received_ms)
    return reading


def stale(rules: Rules, since_ms: int, now_ms: int, blindness: Blindness | None) -> bool:
    """More than stale_after since `since_ms`, the daemon's blind time not counted (rule 6)."""
    gap = now_ms - since_ms
    if gap <= rules.stale_after_ms:
        return False
    return blindness is None or gap - blindness.overlap(since_ms, now_ms) > rules.stale_after_ms


def plausible_from(base_ms: int, reading: Reading, blindness: Blindness | None) -> int:
    """Where a reading's average power is measured from: its baseline's time, or, for a reading
    stamped only with its delivery time (no time of its own, or one ahead of it), the start of
    the blindness its baseline or itself falls in. A backlog read after the daemon's blindness
    arrives in a burst, and neither such a reading nor the baseline such a reading left says
    when its energy was used."""
    if blindness is None or reading.ts_ms != reading.received_ms or blindness.never:
        return base_ms
    earliest = base_ms
    for at_ms in (base_ms, reading.ts_ms):
        start = blindness.began(at_ms)
        if start is not None and start < earliest:
            earliest = start
    return earliest


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
    blindness: Blindness | None = None,
) -> Outcome:
    """Rules 2 to 5 for a reading that passed `screen`."""
    t = reading.ts_ms
    if reading.fault:
        return state._replace(faults=tuple(sorted({*state.faults, t}))), None
    measure = measure_of(state, reading)
    value = reading_value(measure, reading)
    assert value is not None
    # Most meters have no fault, and every valid reading asks: no call for them.
    baseline, faults = new_baseline((t, value)), state.faults and state.faults_after(t)
    if t <= state.accrued_ms:
        return new_state((state.accrued_ms, baseline, faults, measure)), None
    interval = interval_to(spec, rules, state, reading, value, measure, blindness)
    return new_state((t, baseline, faults, measure)), interval


def interval_to(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    reading: Reading,
    value: int,
    measure: Measure,
    blindness: Blindness | None,
) -> Interval:
    """Rule 3: [accrued, t] as one interval, the deemed reasons checked in their order. `value`
    is the reading's register or power, as `measure` bills it."""
    t = reading.ts_ms
    reason = deemed_reason(spec, rules, state, reading, value, measure, blindness)
    if reason is not None:
        return deemed(spec, state.accrued_ms, t, reason)
    energy = metered_energy(state, t, value, measure)
    return new_interval((spec.id, state.accrued_ms, t, METERED, None, energy))


def deemed_reason(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    reading: Reading,
    value: int,
    measure: Measure,
    blindness: Blindness | None = None,
) -> DeemedReason | None:
    t = reading.ts_ms
    base = state.baseline
    if base is None:
        return DeemedReason.NO_BASELINE
    # The usual reading makes neither call: most meters have no fault, and a gap within
    # stale_after is never stale.
    if state.faults and state.faulty_at(t):
        return DeemedReason.METER_FAULT
    if t - base.t_ms > rules.stale_after_ms and stale(rules, base.t_ms, t, blindness):
        return DeemedReason.NO_DATA
    numerator, denominator = rules.implausible_ratio
    if measure is ENERGY:
        if value < base.value:
            return DeemedReason.REGISTER_DECREASE
        energy, span = value - base.value, t - plausible_from(base.t_ms, reading, blindness)
    else:
        energy, span = base.value + value, 2000  # (P0 + P1) / 2 in mW, as W
    if energy * denominator > spec.rated_w * numerator * span:  # mJ per ms is W
        return DeemedReason.IMPLAUSIBLE
    return None


def metered_energy(state: MeterState, t: int, value: int, measure: Measure) -> int:
    """The register's share from `accrued` (all of it when accrued is the baseline's time), or
    the power trapezoid over [accrued, t]."""
    base = state.baseline
    assert base is not None
    if measure is ENERGY:
        return rounded_ratio((value - base.value) * (t - state.accrued_ms), t - base.t_ms)
    return rounded_ratio((base.value + value) * (t - state.accrued_ms), 2000)


def sweep(
    spec: MeterSpec,
    rules: Rules,
    state: MeterState,
    now_ms: int,
    blindness: Blindness | None = None,
) -> Outcome:
    """Rule 6: deem [accrued, now] for a meter that is faulty or has gone quiet; a decommissioned
    meter only up to its decommissioning."""
    end_ms = now_ms if spec.end_ms is None else min(now_ms, spec.end_ms)
    if end_ms <= state.accrued_ms:
        return state, None
    base = state.baseline
    faulty = state.faulty_at(now_ms)
    if base is None:
        quiet = stale(rules, spec.start_ms, now_ms, blindness)
        reason = DeemedReason.NO_BASELINE
    else:
        quiet = stale(rules, base.t_ms, now_ms, blindness)
        reason = DeemedReason.METER_FAULT if faulty else DeemedReason.NO_DATA
    if not (quiet or faulty):
        return state, None
    return state._replace(accrued_ms=end_ms), deemed(spec, state.accrued_ms, end_ms, reason)
