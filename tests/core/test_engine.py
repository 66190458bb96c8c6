"""Rule 8 (splitting), stored rows, rule 10 (frozen periods) and the calendar, through the engine."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from levy.core.calendar import Calendar, parse_period
from levy.core.engine import FrozenPeriodError
from levy.core.model import DeemedReason, Reading, Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.rules import Rules
from levy.core.units import datetime_to_ms, kwh_to_mj
from tests.core.drive import ALMATY, EPOCH, engine, kwh, reading, spec


def at(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text).replace(tzinfo=ALMATY))


def read(when: str, register: str) -> Reading:
    ms = at(when)
    return Reading("rig-1", ms, ms, energy_mj=kwh_to_mj(Decimal(register)))


def rows_of(changes) -> list[tuple[str, str, str, Decimal]]:
    cal = Calendar(ALMATY)
    return [
        (cal.iso(r.start_ms), cal.iso(r.end_ms), (r.reason or r.basis).value, kwh(r.energy_mj))
        for r in sorted(changes.rows.values(), key=lambda r: r.start_ms)
    ]


def meter_from(when: str):
    base = spec()
    return type(base)(base.id, base.rated_w, base.supply, base.measure, at(when))


def test_e10_metered_interval_split_at_almaty_midnight():
    eng = engine([meter_from("2026-10-31T23:50")], rules=Rules(stale_after_ms=1_800_000))
    changes = eng.apply([read("2026-10-31T23:50", "100"), read("2026-11-01T00:10", "100.4")])
    assert rows_of(changes) == [
        ("2026-10-31T23:50:00+05:00", "2026-11-01T00:00:00+05:00", "metered", Decimal("0.2")),
        ("2026-11-01T00:00:00+05:00", "2026-11-01T00:10:00+05:00", "metered", Decimal("0.2")),
    ]


def test_rows_merge_within_an_hour_and_break_at_the_hour():
    eng = engine([meter_from("2026-10-10T10:00")])
    readings = [
        read(f"2026-10-10T10:{m:02d}", str(100 + Decimal(m) / 100)) for m in range(0, 60, 10)
    ]
    readings += [read("2026-10-10T11:05", "100.65")]
    changes = eng.apply(readings)
    assert rows_of(changes) == [
        ("2026-10-10T10:00:00+05:00", "2026-10-10T11:00:00+05:00", "metered", Decimal("0.6")),
        ("2026-10-10T11:00:00+05:00", "2026-10-10T11:05:00+05:00", "metered", Decimal("0.05")),
    ]


def test_an_open_row_is_extended_across_batches():
    eng = engine([meter_from("2026-10-10T10:00")])
    eng.apply([read("2026-10-10T10:00", "100"), read("2026-10-10T10:10", "100.1")])
    changes = eng.apply([read("2026-10-10T10:20", "100.2")])
    assert rows_of(changes) == [
        ("2026-10-10T10:00:00+05:00", "2026-10-10T10:20:00+05:00", "metered", Decimal("0.2"))
    ]


def test_two_registers_of_one_instant_keep_the_higher_in_either_order():
    batch = [reading(0, "100"), reading(600, "100.5"), reading(600, "100.6"), reading(900, "100.9")]
    for delivered in (batch, batch[::-1]):
        eng = engine([spec()])
        changes = eng.apply(delivered)
        assert [kwh(row.energy_mj) for row in changes.rows.values()] == [Decimal("0.9")]
        assert changes.rejections[0][0].energy_mj == batch[1].energy_mj  # a repeat


def test_a_sweep_changes_only_the_meters_it_deems():
    quiet = replace(spec(), id="rig-2")
    eng = engine([spec(), quiet])
    eng.apply([reading(0, "100"), reading(0, "50", meter="rig-2")])
    eng.apply([reading(600, "100.6")])
    changes = eng.apply([], now_ms=EPOCH + 1_000 * 1000)  # rig-2 silent for more than 15 minutes
    assert set(changes.states) == {"rig-2"}
    assert [(row.meter, row.reason) for row in changes.rows.values()] == [
        ("rig-2", DeemedReason.NO_DATA)
    ]
    assert eng.apply([], now_ms=EPOCH + 1_100 * 1000).states == {"rig-2": eng.states["rig-2"]}
    assert not eng.apply([], now_ms=EPOCH + 1_100 * 1000).states  # nothing more to deem


def test_rate_change_inside_a_month_splits_the_row():
    rates = RateSchedule(
        [
            RateStep(0, {Supply.GRID: Decimal(2), Supply.OFF_GRID: Decimal(1)}),
            RateStep(
                at("2026-10-15T10:30"), {Supply.GRID: Decimal(3), Supply.OFF_GRID: Decimal(1)}
            ),
        ]
    )
    eng = engine([meter_from("2026-10-15T10:20")], rates=rates)
    changes = eng.apply([read("2026-10-15T10:20", "100"), read("2026-10-15T10:35", "100.3")])
    assert rows_of(changes) == [
        ("2026-10-15T10:20:00+05:00", "2026-10-15T10:30:00+05:00", "metered", Decimal("0.2")),
        ("2026-10-15T10:30:00+05:00", "2026-10-15T10:35:00+05:00", "metered", Decimal("0.1")),
    ]


def test_split_conserves_energy_exactly_when_shares_do_not_divide():
    eng = engine([meter_from("2026-10-10T10:59:59")])
    changes = eng.apply(
        [read("2026-10-10T10:59:59", "0"), read("2026-10-10T11:00:02", "0.000000011")]
    )
    energies = [r.energy_mj for r in changes.rows.values()]
    assert len(energies) == 2 and sum(energies) == kwh_to_mj(Decimal("0.000000011"))


def test_interval_inside_a_closed_period_is_an_error():
    eng = engine([meter_from("2026-10-31T23:00")])
    eng.apply([read("2026-10-31T23:00", "100")])
    eng.freeze_until(at("2026-11-01T00:00"))
    with pytest.raises(FrozenPeriodError, match="closed period"):
        eng.apply([read("2026-11-01T00:05", "100.1")])


def test_a_meter_accounted_only_into_a_closed_period_cannot_start():
    with pytest.raises(FrozenPeriodError, match="rig-1"):
        engine([meter_from("2026-10-20T00:00")], frozen_until_ms=at("2026-11-01T00:00"))


def test_months_and_quarters_in_the_site_zone():
    cal = Calendar(ALMATY)
    assert cal.period_bounds(parse_period("2026-10")) == (
        at("2026-10-01T00:00"),
        at("2026-11-01T00:00"),
    )
    assert cal.period_bounds(parse_period("2026-Q4")) == (
        at("2026-10-01T00:00"),
        at("2027-01-01T00:00"),
    )
    assert parse_period("2026-Q1").month_labels() == ["2026-01", "2026-02", "2026-03"]
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period("2026-13")


def test_hours_follow_a_half_hour_zone_and_a_dst_change():
    from zoneinfo import ZoneInfo

    kolkata = Calendar(ZoneInfo("Asia/Kolkata"))
    ms = datetime_to_ms(datetime.fromisoformat("2026-10-10T10:10+05:30"))
    assert kolkata.next_hour(ms) == datetime_to_ms(datetime.fromisoformat("2026-10-10T11:00+05:30"))
    berlin = Calendar(ZoneInfo("Europe/Berlin"))
    before = datetime_to_ms(datetime.fromisoformat("2026-10-25T02:30+02:00"))
    assert berlin.next_hour(before) == datetime_to_ms(
        datetime.fromisoformat("2026-10-25T02:00+01:00")
    )
