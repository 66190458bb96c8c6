"""Property tests: coverage, conservation, and independence from delivery order, duplication and
sweep frequency, over random reading streams."""

import itertools
from collections import defaultdict
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from levy.core.calendar import Calendar
from levy.core.engine import Engine, Row
from levy.core.model import Basis, Interval, Measure, Reading
from levy.core.split import split
from tests.core.drive import ALMATY, DEFAULT_RATES, EPOCH, engine, spec

METERS = ["rig-a", "rig-b", "rig-c"]


@st.composite
def streams(draw, measure: Measure = Measure.ENERGY) -> list[Reading]:
    """Readings of a few meters over ~6 hours: steady, quiet gaps, faults, resets and spikes;
    every ts equal to its receive time."""
    readings = []
    for meter in METERS[: draw(st.integers(1, 3))]:
        t, register = draw(st.integers(-600, 600)), draw(st.integers(0, 10**9))
        for _ in range(draw(st.integers(0, 25))):
            t += draw(st.sampled_from([1, 10, 60, 300, 899, 900, 901, 2000, 4000]))
            event = draw(st.sampled_from(["ok", "ok", "ok", "fault", "reset", "spike"]))
            power_mw = draw(st.integers(0, 4_000_000))
            if event == "fault":
                readings.append(Reading(meter, EPOCH + t * 1000, EPOCH + t * 1000, fault=True))
                continue
            step = {"ok": power_mw * t // 1000, "spike": 10**12, "reset": -register}[event]
            register = max(0, register + step)
            ms = EPOCH + t * 1000
            readings.append(Reading(meter, ms, ms, energy_mj=register, power_mw=power_mw))
    return readings


def fleet(measure: Measure = Measure.ENERGY) -> Engine:
    return engine([replace(spec(rated_kw="3.6", measure=measure), id=m) for m in METERS])


def apply_all(eng: Engine, batches: list[list[Reading]], end_ms: int) -> dict[tuple[str, int], Row]:
    rows: dict[tuple[str, int], Row] = {}
    for batch in batches:
        rows.update(eng.apply(batch).rows)
    rows.update(eng.apply([], now_ms=end_ms).rows)
    return rows


def end_of(readings: list[Reading]) -> int:
    return max((r.ts_ms for r in readings), default=EPOCH) + 3_600_000


def totals(rows: dict[tuple[str, int], Row]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows.values():
        out[(row.meter, row.basis.value)] += row.energy_mj
    return dict(out)


@settings(max_examples=200, deadline=None)
@given(streams())
def test_coverage_no_gap_no_overlap_from_start_to_accrued(readings):
    eng = fleet()
    rows = apply_all(
        eng, [readings[: len(readings) // 2], readings[len(readings) // 2 :]], end_of(readings)
    )
    for meter, meter_spec in eng.specs.items():
        mine = sorted((r for r in rows.values() if r.meter == meter), key=lambda r: r.start_ms)
        edges = [meter_spec.start_ms] + [r.end_ms for r in mine]
        assert [r.start_ms for r in mine] == edges[:-1], "gap or overlap"
        assert edges[-1] == eng.states[meter].accrued_ms
        assert all(r.start_ms < r.end_ms for r in mine)


@settings(max_examples=200, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_order_of_delivery_inside_a_batch_changes_nothing(readings, rnd):
    shuffled = readings[:]
    rnd.shuffle(shuffled)
    first, second = fleet(), fleet()
    assert apply_all(first, [readings], end_of(readings)) == apply_all(
        second, [shuffled], end_of(readings)
    )
    assert first.states == second.states


@settings(max_examples=200, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_duplicated_messages_change_nothing(readings, rnd):
    doubled = readings + [rnd.choice(readings) for _ in readings]
    batches = [readings, doubled[len(readings) :]]
    assert apply_all(fleet(), [readings], end_of(readings)) == apply_all(
        fleet(), batches, end_of(readings)
    )


@settings(max_examples=200, deadline=None)
@given(streams(), st.lists(st.integers(0, 30_000), max_size=12))
def test_sweep_frequency_changes_no_total_when_ts_is_receive_time(readings, sweep_offsets):
    end = end_of(readings)
    once = totals(apply_all(fleet(), [sorted(readings, key=lambda r: r.ts_ms)], end))
    eng, rows = fleet(), {}
    pending = sorted(readings, key=lambda r: r.ts_ms)
    for sweep_ms in sorted(min(EPOCH + s * 1000, end) for s in sweep_offsets):
        batch = [r for r in pending if r.received_ms <= sweep_ms]
        pending = pending[len(batch) :]
        rows.update(eng.apply(batch, now_ms=sweep_ms).rows)
    rows.update(eng.apply(pending, now_ms=end).rows)
    assert totals(rows) == once


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10 * 86_400_000),
    st.integers(1, 3 * 86_400_000),
    st.integers(0, 10**13),
    st.sampled_from(list(Basis)),
)
def test_split_conserves_energy_and_tiles_the_interval(start, length, energy, basis):
    interval = Interval("rig-a", EPOCH + start, EPOCH + start + length, basis, None, energy)
    pieces = split(interval, Calendar(ALMATY), DEFAULT_RATES)
    assert sum(p.energy_mj for p in pieces) == energy
    assert pieces[0].start_ms == interval.start_ms and pieces[-1].end_ms == interval.end_ms
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(pieces))
    assert all(p.energy_mj >= 0 for p in pieces)


def test_deemed_pieces_are_exact_per_millisecond():
    interval = Interval("rig-a", EPOCH - 1, EPOCH + 7_200_001, Basis.DEEMED, None, 3250 * 7_200_002)
    pieces = split(interval, Calendar(ALMATY), DEFAULT_RATES)
    assert [p.energy_mj for p in pieces] == [3250 * (p.end_ms - p.start_ms) for p in pieces]


def delivered_early(readings: list[Reading], rnd) -> list[Reading]:
    """Each meter's values in time order, each fault moved to a random earlier delivery slot:
    still before every value at or after its time (a device's status and event topics
    interleave), so readings older than a fault may arrive after it."""
    stream: list[Reading] = []
    for meter in METERS:
        mine = sorted((r for r in readings if r.meter == meter), key=lambda r: r.ts_ms)
        values = [r for r in mine if not r.fault]
        for fault in (r for r in mine if r.fault):
            limit = next((i for i, v in enumerate(values) if v.ts_ms >= fault.ts_ms), len(values))
            values.insert(rnd.randint(0, limit), fault)
        stream += values
    return stream


@settings(max_examples=300, deadline=None)
@given(streams(), st.randoms(use_true_random=False), st.lists(st.integers(0, 80), max_size=8))
def test_where_batches_are_cut_changes_nothing_faults_delivered_early_included(readings, rnd, cuts):
    stream = delivered_early(readings, rnd)
    bounds = sorted({0, len(stream), *(min(c, len(stream)) for c in cuts)})
    batches = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    whole, cut = fleet(), fleet()
    assert apply_all(whole, [stream], end_of(readings)) == apply_all(cut, batches, end_of(readings))
    assert whole.states == cut.states
