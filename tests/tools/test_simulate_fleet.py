"""The simulated fleet: loads and exact registers, the schedule, and seeded fault injection."""

from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from collector.formats import Frame
from levy.config.meters import MeterConfig
from levy.config.records import Meter, meter_record
from levy.core.units import MJ_PER_KWH
from levy.tools.simulate.fleet import (
    REGISTER_STEP,
    SPIKE_FACTOR,
    Event,
    FaultPlan,
    Fleet,
    synthetic_meters,
)
from tests.collector.support import utc_ms

START = utc_ms(2026, 10, 1)
INTERVAL = 10_000
RATED = Decimal("3.25")


def meters(count: int = 5, fmt: str = "mixed") -> list[Meter]:
    return synthetic_meters(count, fmt, RATED, "sim/site")


def meter(meter_id: str, fmt: str, topic: str, **keys: object) -> Meter:
    entry = {"id": meter_id, "format": fmt, "topic": topic, "rated_kw": RATED, **keys}
    return meter_record(MeterConfig.model_validate(entry))


def variant(base: Meter, **changes: object) -> Meter:
    return base._replace(**changes)


def run(fleet: Fleet, rounds: int) -> list[tuple[str, Event, Frame | None]]:
    """Every tick of `rounds` intervals: (device topic, event, frame)."""
    end = START + rounds * fleet.interval_ms
    return [(device.topic, *device.tick(due)) for due, device in fleet.schedule(START, end)]


def test_synthetic_meters_take_the_formats_in_turn_below_one_prefix() -> None:
    specs = meters(6)
    assert [(s.id, s.format, s.topic) for s in specs] == [
        ("rig-0001", "native", "sim/site/rig-0001"),
        ("rig-0002", "tasmota", "sim/site/tele/rig-0002/SENSOR"),
        ("rig-0003", "shelly", "sim/site/shelly/rig-0003"),
        ("rig-0004", "zigbee2mqtt", "sim/site/zigbee2mqtt/rig-0004"),
        ("rig-0005", "mbmd", "sim/site/mbmd/rig-0005"),
        ("rig-0006", "native", "sim/site/rig-0006"),
    ]
    assert synthetic_meters(12_345, "native", RATED, "p")[-1].id == "rig-12345"


def test_schedule_spreads_the_devices_over_each_interval_until_the_end() -> None:
    fleet = Fleet(meters(4), 0, FaultPlan(), INTERVAL)
    ticks = [(due - START, device.topic) for due, device in fleet.schedule(START, START + 15_000)]
    topics = [device.topic for device in fleet.devices]
    assert ticks == [
        (0, topics[0]),
        (2_500, topics[1]),
        (5_000, topics[2]),
        (7_500, topics[3]),
        (10_000, topics[0]),
        (12_500, topics[1]),
    ]


def test_loads_stay_between_60_and_95_percent_of_rated_power() -> None:
    fleet = Fleet(meters(20), 7, FaultPlan(), INTERVAL)
    powers = [
        channel.power_w for _, _, frame in run(fleet, 50) if frame for channel in frame.channels
    ]
    assert len(powers) == 20 * 50
    assert min(powers) >= RATED * 600 and max(powers) <= RATED * 950
    assert len(set(powers)) > 500  # noise, not a constant


def test_registers_are_exact_and_count_exactly_the_energy_consumed() -> None:
    fleet = Fleet(meters(5), 3, FaultPlan(), INTERVAL)
    first = {rig.meter.id: rig.register_kwh for rig in fleet.rigs}
    for _, _, frame in run(fleet, 100):
        assert frame is not None
        for channel in frame.channels:
            assert channel.energy_kwh == channel.energy_kwh.quantize(REGISTER_STEP)
            assert (channel.energy_kwh * MJ_PER_KWH) % 1 == 0  # whole mJ: the core holds it exactly
    for rig in fleet.rigs:
        assert rig.register_kwh - first[rig.meter.id] == rig.consumed_kwh
        # 99 steps of 10 s at 60-95% of 3.25 kW
        assert Decimal("0.536") < rig.consumed_kwh < Decimal("0.850")
        assert rig.first_ms is not None and rig.last_ms == rig.first_ms + 99 * INTERVAL


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    plan = FaultPlan(gap=0.01, fault=0.05, reset=0.02, spike=0.02, malformed=0.1, gap_ms=60_000)
    once = run(Fleet(meters(), 42, plan, INTERVAL), 200)
    again = run(Fleet(meters(), 42, plan, INTERVAL), 200)
    other = run(Fleet(meters(), 43, plan, INTERVAL), 200)
    assert once == again
    assert once != other
    assert {event for _, event, _ in once} == set(Event)


def test_a_rigs_load_depends_neither_on_faults_nor_on_the_other_meters() -> None:
    plan = FaultPlan(gap=0.05, reset=0.1, spike=0.1, malformed=0.1)
    alone = Fleet(meters(1), 5, FaultPlan(), INTERVAL)
    crowded = Fleet(meters(5), 5, plan, INTERVAL)
    run(alone, 300)
    run(crowded, 300)
    assert crowded.rigs[0].consumed_kwh == alone.rigs[0].consumed_kwh
    assert crowded.rigs[0].events != alone.rigs[0].events


def test_faults_strike_only_the_meters_named() -> None:
    plan = FaultPlan(malformed=0.5, spike=0.3, only=frozenset({"rig-0002"}))
    fleet = Fleet(meters(3, "native"), 0, plan, INTERVAL)
    run(fleet, 100)
    events = {rig.meter.id: rig.events for rig in fleet.rigs}
    assert events["rig-0001"] == events["rig-0003"] == Counter({Event.NORMAL: 100})
    assert events["rig-0002"][Event.MALFORMED] > 30
    assert events["rig-0002"][Event.SPIKE] > 10


def test_a_gap_withholds_every_reading_for_its_length() -> None:
    fleet = Fleet(meters(1, "native"), 0, FaultPlan(gap=1.0, gap_ms=35_000), INTERVAL)
    assert [(event, frame) for _, event, frame in run(fleet, 9)] == [
        (Event.GAP, None),
        (Event.SILENT, None),
        (Event.SILENT, None),
        (Event.SILENT, None),
        (Event.GAP, None),  # 40 s later: past the 35 s gap, and the rate is 1
        (Event.SILENT, None),
        (Event.SILENT, None),
        (Event.SILENT, None),
        (Event.GAP, None),
    ]
    assert fleet.rigs[0].events == Counter({Event.GAP: 3, Event.SILENT: 9})
    assert fleet.rigs[0].consumed_kwh > 0  # the rig ran all along


@pytest.mark.parametrize(("fmt", "flagged"), [("native", True), ("shelly", True), ("mbmd", False)])
def test_fault_frames_only_where_the_format_has_a_fault_flag(fmt: str, flagged: bool) -> None:
    fleet = Fleet(meters(1, fmt), 0, FaultPlan(fault=1.0), INTERVAL)
    [(_, event, frame)] = run(fleet, 1)
    assert frame is not None
    assert (event, frame.fault) == ((Event.FAULT, True) if flagged else (Event.NORMAL, False))


def test_a_reset_puts_the_register_back_to_zero_and_it_counts_on() -> None:
    spec = meters(1, "native")[0]
    plan = FaultPlan(reset=1.0, only=frozenset({spec.id}))
    fleet = Fleet([spec], 0, plan, INTERVAL)
    ticks = run(fleet, 2)
    assert ticks[0][2] is not None and ticks[0][2].channels[0].energy_kwh == 0
    fleet = Fleet([spec], 0, replace(plan, reset=0.0), INTERVAL)
    clean = run(fleet, 2)
    assert clean[0][2] is not None and clean[0][2].channels[0].energy_kwh > 100


def test_a_spike_jumps_the_register_far_above_the_rated_load_for_good() -> None:
    spec = meters(1, "native")[0]
    spiked, clean = (
        run(Fleet([spec], 0, FaultPlan(spike=rate), INTERVAL), 2) for rate in (1.0, 0.0)
    )
    jump = RATED * INTERVAL * SPIKE_FACTOR / 3_600_000
    for index in (0, 1):
        spiked_frame, clean_frame = spiked[index][2], clean[index][2]
        assert spiked_frame is not None and clean_frame is not None
        difference = spiked_frame.channels[0].energy_kwh - clean_frame.channels[0].energy_kwh
        assert difference == (index + 1) * jump.quantize(REGISTER_STEP)
        assert spiked_frame.channels[0].power_w == RATED * 1000 * SPIKE_FACTOR


def test_malformed_frames_draw_every_garble() -> None:
    fleet = Fleet(meters(1, "native"), 1, FaultPlan(malformed=1.0), INTERVAL)
    garbles = Counter(frame.garble for _, _, frame in run(fleet, 200) if frame)
    assert len(garbles) == 4 and min(garbles.values()) > 20


@pytest.mark.parametrize(
    "plan",
    [{"gap": 0.6, "malformed": 0.6}, {"spike": -0.1}, {"fault": 1.5}],
    ids=["sum above 1", "negative", "above 1"],
)
def test_fault_rates_are_probabilities(plan: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="1"):
        FaultPlan(**plan)


def test_meters_sharing_a_device() -> None:
    tasmota = meter("a", "tasmota", "tele/dev/SENSOR", channel=1)
    fleet = Fleet([tasmota, variant(tasmota, id="b", channel=2)], 0, FaultPlan(), INTERVAL)
    assert [len(device.rigs) for device in fleet.devices] == [2]
    with pytest.raises(ValueError, match="meter b: another meter reads the same value"):
        Fleet([tasmota, variant(tasmota, id="b")], 0, FaultPlan(), INTERVAL)
    native = meter("c", "native", "x/c")
    with pytest.raises(ValueError, match="meter d"):
        Fleet([native, variant(native, id="d")], 0, FaultPlan(), INTERVAL)
    with pytest.raises(ValueError, match="unknown format 'modbus'"):
        Fleet([variant(native, format="modbus")], 0, FaultPlan(), INTERVAL)
