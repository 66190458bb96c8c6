"""Drive the rules with the worked examples' vocabulary: seconds and kWh."""

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from levy.core.calendar import Calendar
from levy.core.engine import Engine
from levy.core.model import Interval, Measure, Reading, Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.rules import MeterSpec, MeterState, Rules, apply_reading, initial_state, screen
from levy.core.rules import sweep as sweep_rule
from levy.core.units import MJ_PER_KWH, kw_to_w, kwh_to_mj, w_to_mw

ALMATY = ZoneInfo("Asia/Almaty")
EPOCH = 1_790_000_000_000
"""A base instant (2026-09-21, UTC) that is a whole UTC hour, far from any month boundary."""

DEFAULT_RATES = RateSchedule([RateStep(0, {Supply.GRID: Decimal(2), Supply.OFF_GRID: Decimal(1)})])


def spec(
    rated_kw: str = "3.6", start_s: int = 0, measure: Measure | None = Measure.ENERGY
) -> MeterSpec:
    return MeterSpec(
        "rig-1", kw_to_w(Decimal(rated_kw)), Supply.GRID, measure, EPOCH + start_s * 1000
    )


def reading(
    t_s: float,
    kwh: str | None = None,
    watts: str | None = None,
    fault: bool = False,
    meter: str = "rig-1",
) -> Reading:
    ms = EPOCH + int(Decimal(str(t_s)) * 1000)
    return Reading(
        meter,
        ms,
        ms,
        energy_mj=kwh_to_mj(Decimal(kwh)) if kwh is not None else None,
        power_mw=w_to_mw(Decimal(watts)) if watts is not None else None,
        fault=fault,
    )


def kwh(mj: int) -> Decimal:
    return Decimal(mj) / MJ_PER_KWH


@dataclass
class Seen:
    """An interval as the worked examples write it: seconds from EPOCH and kWh."""

    start: float
    end: float
    reason: str
    kwh: Decimal


def seen(interval: Interval) -> Seen:
    return Seen(
        (interval.start_ms - EPOCH) / 1000,
        (interval.end_ms - EPOCH) / 1000,
        interval.reason.value if interval.reason else "metered",
        kwh(interval.energy_mj),
    )


DEFAULT_RULES = Rules()


def play(events: list, meter: MeterSpec | None = None, rules: Rules = DEFAULT_RULES) -> list[Seen]:
    """Events are readings or ("sweep", t_s); returns the intervals the rules emit, in order."""
    meter = meter or spec()
    state: MeterState = initial_state(meter)
    out = []
    for event in events:
        if not isinstance(event, Reading):  # ("sweep", t_s)
            state, interval = sweep_rule(meter, rules, state, EPOCH + event[1] * 1000)
        elif screen(meter, rules, state, event) is None:
            state, interval = apply_reading(meter, rules, state, event)
        else:
            interval = None
        if interval is not None:
            out.append(seen(interval))
    return out


def engine(
    specs: list[MeterSpec],
    rates: RateSchedule = DEFAULT_RATES,
    rules: Rules = DEFAULT_RULES,
    **kwargs,
) -> Engine:
    return Engine({s.id: s for s in specs}, rules, Calendar(ALMATY), rates, **kwargs)
