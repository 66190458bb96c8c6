"""Rule 6: the daemon's blind time is nobody's meter's fault; rule 1: a clock ahead counts as
the receive time."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from levy.core.blind import Blindness
from levy.core.model import Reading, RejectReason
from levy.core.rules import Rules, apply_reading, initial_state, on_receive_clock, sweep
from tests.core.drive import EPOCH, Seen, engine, kwh, reading, seen, spec

S = 1000


def blind_from(*spans: tuple[int, int], since: int | None = None) -> Blindness:
    return Blindness(
        [(EPOCH + a * S, EPOCH + b * S) for a, b in spans],
        None if since is None else EPOCH + since * S,
    )


def test_overlap_counts_closed_and_open_spans_within_the_window():
    blindness = blind_from((100, 200), (300, 400), since=1000)
    assert blindness.overlap(EPOCH, EPOCH + 150 * S) == 50 * S
    assert blindness.overlap(EPOCH + 150 * S, EPOCH + 350 * S) == 100 * S
    assert blindness.overlap(EPOCH + 900 * S, EPOCH + 1200 * S) == 200 * S
    assert blindness.overlap(EPOCH + 500 * S, EPOCH + 600 * S) == 0


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), max_size=8),
    st.integers(0, 12_000),
    st.integers(0, 3_000),
)
def test_overlap_equals_counting_second_by_second(raw, start, length):
    spans, cursor = [], 0
    for gap, size in raw:
        cursor += gap
        spans.append((cursor, cursor + size))
        cursor += size
    blindness = Blindness(spans)
    expected = sum(1 for t in range(start, start + length) if any(a <= t < b for a, b in spans))
    assert blindness.overlap(start, start + length) == expected


def test_a_reading_after_the_daemon_was_blind_is_metered_not_stale():
    # 2100 s since the last reading, 1900 of them blind: 200 s count, under stale_after (900 s)
    meter, blindness = spec(), blind_from((100, 2000))
    state, _ = apply_reading(meter, Rules(), initial_state(meter), reading(0, "100"))
    _, interval = apply_reading(meter, Rules(), state, reading(2100, "101"), blindness)
    assert seen(interval) == Seen(0, 2100, "metered", D("1"))


def test_without_the_blind_span_the_same_gap_is_no_data():
    meter = spec()
    state, _ = apply_reading(meter, Rules(), initial_state(meter), reading(0, "100"))
    _, interval = apply_reading(meter, Rules(), state, reading(2100, "101"))
    assert seen(interval) == Seen(0, 2100, "no_data", D("2.1"))


def test_a_sweep_while_blind_deems_nothing_and_after_it_deems_the_whole_silence():
    meter = spec()
    state, _ = apply_reading(meter, Rules(), initial_state(meter), reading(0, "100"))
    blindness = blind_from(since=60)
    assert sweep(meter, Rules(), state, EPOCH + 3000 * S, blindness) == (state, None)
    blindness.end(EPOCH + 3000 * S)
    # seeing again at 3000: 60 s counted so far; a silent meter is deemed once 900 s have counted
    assert sweep(meter, Rules(), state, EPOCH + 3800 * S, blindness)[1] is None
    _, interval = sweep(meter, Rules(), state, EPOCH + 3900 * S, blindness)
    assert seen(interval) == Seen(0, 3900, "no_data", D("3.9"))


def test_a_clock_ahead_within_the_skew_counts_as_the_receive_time():
    ahead = Reading("rig-1", EPOCH + 60 * S, EPOCH, energy_mj=1)
    assert on_receive_clock(Rules(), ahead).ts_ms == EPOCH
    beyond = ahead._replace(ts_ms=EPOCH + 301 * S)
    assert on_receive_clock(Rules(), beyond) == beyond


def test_a_clock_ahead_swallows_no_reading():
    # one reading stamped 60 s ahead, then readings on time every 10 s: none is a duplicate
    eng = engine([spec()])
    first = reading(0, "100")
    ahead = Reading("rig-1", EPOCH + 70 * S, EPOCH + 10 * S, energy_mj=first.energy_mj + 36_000_000)
    later = [reading(t, str(D(100) + D(t) / 1000)) for t in range(20, 130, 10)]
    changes = eng.apply([first, ahead, *later])
    assert not [r for _, r in changes.rejections if r.reason is RejectReason.DUPLICATE]
    assert kwh(sum(row.energy_mj for row in changes.rows.values())) == D("0.12")


def test_a_rejected_reading_stamped_ahead_is_returned_as_it_was_handed_in():
    eng = engine([spec()])
    eng.apply([reading(10, "100")])
    late = Reading("rig-1", EPOCH + 15 * S, EPOCH + 5 * S, energy_mj=1)
    [(rejected, why)] = eng.apply([late]).rejections
    assert rejected is late and why.reason is RejectReason.DUPLICATE


def test_a_burst_of_delivery_stamped_readings_after_blindness_is_metered():
    # a backlog read while blind: readings stamped with their delivery time arrive 1 ms apart;
    # their power is judged over the time since the blindness began, not over the burst
    meter, blindness = spec(), blind_from(since=100)
    state, _ = apply_reading(meter, Rules(), initial_state(meter), reading(0, "100"))
    burst = [reading(2000, "100.5"), reading(2000.001, "101")]
    intervals = []
    for event in burst:
        state, interval = apply_reading(meter, Rules(), state, event, blindness)
        intervals.append(seen(interval))
    assert intervals == [
        Seen(0, 2000, "metered", D("0.5")),
        Seen(2000, 2000.001, "metered", D("0.5")),
    ]


def test_the_same_burst_seen_by_a_daemon_that_is_not_blind_is_implausible():
    meter = spec()
    state, _ = apply_reading(meter, Rules(), initial_state(meter), reading(0, "100"))
    state, _ = apply_reading(meter, Rules(), state, reading(2000, "100.5"))
    _, interval = apply_reading(meter, Rules(), state, reading(2000.001, "101"))
    assert seen(interval).reason == "implausible"


def test_began_names_the_blindness_an_instant_falls_in_its_end_included():
    blindness = blind_from((100, 200), since=1000)
    assert blindness.began(EPOCH + 150 * S) == EPOCH + 100 * S
    assert blindness.began(EPOCH + 200 * S) == EPOCH + 100 * S
    assert blindness.began(EPOCH + 500 * S) is None
    assert blindness.began(EPOCH + 5000 * S) == EPOCH + 1000 * S
