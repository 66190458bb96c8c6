"""One test per rule and per deemed reason, with DESIGN.md's worked examples (E1 to E9)."""

from decimal import Decimal

from levy.core.model import Measure, RejectReason
from levy.core.rules import Rules, apply_reading, initial_state, screen
from tests.core.drive import Seen, play, reading, spec

D = Decimal


def test_e1_first_reading_sets_baseline_then_metered():
    assert play([reading(0, "100"), reading(600, "100.5")]) == [Seen(0, 600, "metered", D("0.5"))]


def test_e2_no_baseline_is_deemed_from_accounting_start():
    assert play([reading(30, "100")]) == [Seen(0, 30, "no_baseline", D("0.03"))]


def test_e3_gap_longer_than_stale_after_is_deemed_no_data():
    assert play([reading(0, "100"), reading(1200, "101")]) == [Seen(0, 1200, "no_data", D("1.2"))]


def test_gap_exactly_stale_after_is_still_metered():
    assert play([reading(0, "100"), reading(900, "100.9")]) == [Seen(0, 900, "metered", D("0.9"))]


def test_e4_meter_fault_deems_until_next_valid_reading():
    events = [
        reading(0, "100"),
        reading(300, fault=True),
        reading(600, "100.5"),
        reading(1200, "101"),
    ]
    assert play(events) == [
        Seen(0, 600, "meter_fault", D("0.6")),
        Seen(600, 1200, "metered", D("0.5")),
    ]


def test_e5_register_decrease_is_deemed_and_rebaselines():
    events = [reading(0, "100"), reading(600, "0.2"), reading(1200, "0.7")]
    assert play(events) == [
        Seen(0, 600, "register_decrease", D("0.6")),
        Seen(600, 1200, "metered", D("0.5")),
    ]


def test_e6_implausible_average_power_is_deemed():
    events = [reading(0, "100"), reading(600, "101"), reading(1200, "101.5")]
    assert play(events) == [
        Seen(0, 600, "implausible", D("0.6")),
        Seen(600, 1200, "metered", D("0.5")),
    ]


def test_average_power_at_exactly_the_plausible_limit_is_metered():
    limit_kwh = D("3.6") * D("1.2") * 600 / 3600  # 0.72 kWh in 600 s
    events = [reading(0, "100"), reading(600, str(100 + limit_kwh))]
    assert play(events) == [Seen(0, 600, "metered", limit_kwh)]


def test_e7_share_of_a_baseline_before_the_accounting_start():
    events = [reading(0, "100"), reading(600, "100.6")]
    assert play(events, spec(start_s=300)) == [Seen(300, 600, "metered", D("0.3"))]


def test_rule2_share_after_a_sweep_moved_accrued_past_the_baseline():
    # sweep deems [0, 1000]; a late reading at 950 (received later) only moves the baseline;
    # the next reading bills its share from 1000: 0.3 kWh over 950..1250 -> 0.25 for 1000..1250.
    events = [reading(0, "100"), ("sweep", 1000), reading(950, "100.95"), reading(1250, "101.25")]
    assert play(events) == [
        Seen(0, 1000, "no_data", D("1")),
        Seen(1000, 1250, "metered", D("0.25")),
    ]


def test_e8_sweep_deems_quiet_meter_live():
    events = [reading(0, "100"), ("sweep", 1000), reading(1100, "101"), reading(1400, "101.3")]
    assert play(events) == [
        Seen(0, 1000, "no_data", D("1")),
        Seen(1000, 1100, "no_data", D("0.1")),
        Seen(1100, 1400, "metered", D("0.3")),
    ]


def test_sweep_leaves_a_fresh_meter_alone():
    assert play([reading(0, "100"), ("sweep", 900)]) == []


def test_sweep_deems_a_faulty_meter_at_once():
    events = [reading(0, "100"), reading(100, fault=True), ("sweep", 200)]
    assert play(events) == [Seen(0, 200, "meter_fault", D("0.2"))]


def test_sweep_deems_a_meter_never_heard_from_as_no_baseline():
    # within stale_after_s of the accounting start nothing is deemed yet
    assert play([("sweep", 600), ("sweep", 1200)]) == [Seen(0, 1200, "no_baseline", D("1.2"))]


def test_sweep_at_the_same_instant_twice_adds_nothing():
    assert play([reading(0, "100"), ("sweep", 1000), ("sweep", 1000)]) == [
        Seen(0, 1000, "no_data", D("1"))
    ]


def test_e9_power_only_meter_is_metered_by_trapezoid():
    meter = spec(measure=Measure.POWER)
    events = [reading(0, watts="3000"), reading(300, watts="3600")]
    assert play(events, meter) == [Seen(0, 300, "metered", D("0.275"))]


def test_power_only_implausible_average_is_deemed():
    meter = spec(measure=Measure.POWER)
    events = [reading(0, watts="3000"), reading(300, watts="9000")]
    assert play(events, meter) == [Seen(0, 300, "implausible", D("0.3"))]


def test_power_only_gap_is_deemed_no_data():
    meter = spec(measure=Measure.POWER)
    events = [reading(0, watts="3000"), reading(1000, watts="3000")]
    assert play(events, meter) == [Seen(0, 1000, "no_data", D("1"))]


def test_rule1_duplicate_and_out_of_order_are_rejected():
    meter = spec()
    events = [
        reading(0, "100"),
        reading(600, "100.5"),
        reading(600, "100.5"),
        reading(300, "100.2"),
    ]
    assert play(events, meter) == [Seen(0, 600, "metered", D("0.5"))]


def test_rule1_clock_skew_is_rejected_with_its_reason():
    meter = spec()
    ahead = reading(0, "100")
    ahead = type(ahead)(ahead.meter, ahead.ts_ms + 301_000, ahead.received_ms, ahead.energy_mj)
    rejection = screen(meter, Rules(), initial_state(meter), ahead)
    assert rejection is not None and rejection.reason is RejectReason.CLOCK_SKEW


def test_rule1_a_reading_without_the_billed_quantity_is_rejected():
    rejection = screen(spec(), Rules(), initial_state(spec()), reading(10, watts="100"))
    assert rejection is not None and rejection.reason is RejectReason.MISSING_FIELD


def test_e11_a_reading_older_than_a_fault_delivered_after_it_is_metered():
    events = [
        reading(0, "100"),
        reading(300, fault=True),
        reading(200, "100.2"),
        reading(600, "100.6"),
    ]
    assert play(events) == [
        Seen(0, 200, "metered", D("0.2")),
        Seen(200, 600, "meter_fault", D("0.4")),
    ]


def test_rule4_a_reading_at_the_fault_instant_leaves_the_mark_standing():
    events = [
        reading(0, "100"),
        reading(300, fault=True),
        reading(300, "100.3"),
        reading(600, "100.6"),
    ]
    assert play(events) == [
        Seen(0, 300, "metered", D("0.3")),
        Seen(300, 600, "meter_fault", D("0.3")),
    ]


def test_rule4_a_fault_not_newer_than_the_last_valid_reading_is_rejected():
    meter = spec()
    events = [reading(0, "100"), reading(600, "100.5")]
    state = initial_state(meter)
    for event in events:
        state, _ = apply_reading(meter, Rules(), state, event)
    late = screen(meter, Rules(), state, reading(600, fault=True))
    assert late is not None and late.reason is RejectReason.DUPLICATE


def test_rule4_faults_delivered_early_each_end_at_the_first_reading_after_them():
    # faults at 400 and 300, delivered before the readings at 200 and 350: as in time order,
    # 350 ends the fault of 300 and the fault of 400 still stands for 600
    events = [
        reading(0, "100"),
        reading(400, fault=True),
        reading(300, fault=True),
        reading(200, "100.2"),
        reading(350, "100.35"),
        reading(600, "100.6"),
    ]
    assert play(events) == [
        Seen(0, 200, "metered", D("0.2")),
        Seen(200, 350, "meter_fault", D("0.15")),
        Seen(350, 600, "meter_fault", D("0.25")),
    ]


def test_e12_what_a_meter_measures_is_decided_by_its_first_reading():
    meter = spec(measure=None)
    state = initial_state(meter)
    state, _ = apply_reading(meter, Rules(), state, reading(0, watts="2000"))
    assert state.measure is Measure.POWER
    rejection = screen(meter, Rules(), state, reading(300, kwh="100"))
    assert rejection is not None and rejection.reason is RejectReason.MISSING_FIELD
    assert "rig-1" in rejection.detail


def test_rule5_a_register_decides_energy_even_beside_power():
    meter = spec(measure=None)
    events = [reading(0, "100", watts="3000"), reading(600, "100.5", watts="3000")]
    assert play(events, meter) == [Seen(0, 600, "metered", D("0.5"))]


def test_rule5_a_power_only_meter_needs_no_configuration():
    meter = spec(measure=None)
    events = [reading(0, watts="3000"), reading(300, watts="3600")]
    assert play(events, meter) == [Seen(0, 300, "metered", D("0.275"))]


def test_faulty_meter_without_baseline_is_deemed_no_baseline_first():
    assert play([reading(100, fault=True), reading(200, "5")]) == [
        Seen(0, 200, "no_baseline", D("0.2"))
    ]
