"""The engine keeps each open row's cut and total key from its start instead of asking the
calendar per reading: over random streams, batches, rate steps and a change of supply, every row
stays inside one hour and rate step, and the totals reported batch by batch equal the rows'
energy keyed afresh."""

import itertools
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from levy.core.calendar import Calendar
from levy.core.engine import Engine, Row, TotalKey
from levy.core.model import Reading, Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.split import bucket_start, next_cut
from tests.core.drive import ALMATY, DEFAULT_RULES, EPOCH
from tests.core.test_properties import end_of, fleet, streams


def schedule(steps_s: list[int]) -> RateSchedule:
    """A rate step at each offset (seconds from EPOCH, off the hour), each dearer than the last."""
    steps = [RateStep(0, {Supply.GRID: Decimal(2), Supply.OFF_GRID: Decimal(1)})]
    for n, offset in enumerate(sorted(set(steps_s)), start=1):
        steps.append(RateStep(EPOCH + offset * 1000, {s: Decimal(2 + n) for s in Supply}))
    return RateSchedule(steps)


def keyed_afresh(rows: dict[tuple[str, int], Row], rates: RateSchedule) -> dict[TotalKey, int]:
    calendar, totals = Calendar(ALMATY), defaultdict(int)
    for row in rows.values():
        bucket = bucket_start(calendar, rates, row.start_ms)
        key = TotalKey(row.meter, row.reason, bucket, row.supply, row.rated_w, row.rate, row.role)
        totals[key] += row.energy_mj
    return dict(totals)


@settings(max_examples=200, deadline=None)
@given(
    streams(),
    st.lists(st.integers(-600, 30_000), max_size=3),
    st.lists(st.integers(0, 120), max_size=6),
    st.integers(0, 120),
)
def test_cached_row_bounds_give_the_rows_and_totals_the_calendar_gives(
    readings: list[Reading], steps_s: list[int], cuts: list[int], regrade_at: int
):
    rates = schedule(steps_s)
    eng = Engine(fleet().specs, DEFAULT_RULES, Calendar(ALMATY), rates)
    bounds = sorted({0, len(readings), *(min(c, len(readings)) for c in cuts)})
    rows: dict[tuple[str, int], Row] = {}
    reported: dict[TotalKey, int] = defaultdict(int)
    for low, high in itertools.pairwise(bounds):
        if low <= regrade_at < high:  # a new supply and rating: the open rows end, a new engine
            specs = {
                m: replace(s, supply=Supply.OFF_GRID, rated_w=4000) for m, s in eng.specs.items()
            }
            eng = Engine(specs, DEFAULT_RULES, eng.calendar, rates, eng.states, eng.open_rows)
        changes = eng.apply(readings[low:high])
        rows.update(changes.rows)
        for key, mj in changes.totals.items():
            reported[key] += mj
    changes = eng.apply([], now_ms=end_of(readings))
    rows.update(changes.rows)
    for key, mj in changes.totals.items():
        reported[key] += mj
    calendar = Calendar(ALMATY)
    assert all(row.end_ms <= next_cut(calendar, rates, row.start_ms) for row in rows.values())
    assert dict(reported) == keyed_afresh(rows, rates)
