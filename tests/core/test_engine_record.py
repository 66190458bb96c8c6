"""What the engine stores for the record: rows carry what they were billed as, months are exact
in half-hour zones and across Almaty's 2024 change of offset, a supply change inside a month
starts new rows, and a decommissioned meter is accounted to its end and no further."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from levy.config.zone import load_zone
from levy.core.calendar import Calendar
from levy.core.engine import Engine
from levy.core.model import Reading, RejectReason, Supply
from levy.core.rules import Rules
from levy.core.units import datetime_to_ms, kwh_to_mj
from tests.core.drive import DEFAULT_RATES, kwh, spec

KOLKATA = load_zone("Asia/Kolkata")
ALMATY = load_zone("Asia/Almaty")
LOOSE = Rules(stale_after_ms=2 * 3_600_000)


def ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


def read(when: str, register: str, meter: str = "rig-1") -> Reading:
    return Reading(meter, ms(when), ms(when), energy_mj=kwh_to_mj(Decimal(register)))


def fleet(zone, start: str, rules: Rules = LOOSE, **changes) -> Engine:
    meter = replace(spec(), start_ms=ms(start), **changes)
    return Engine({meter.id: meter}, rules, Calendar(zone), DEFAULT_RATES)


def rows(changes, zone) -> list[tuple[str, str, Decimal]]:
    cal = Calendar(zone)
    ordered = sorted(changes.rows.values(), key=lambda r: r.start_ms)
    return [(cal.iso(r.start_ms), cal.iso(r.end_ms), kwh(r.energy_mj)) for r in ordered]


def by_month(changes, zone) -> dict[str, Decimal]:
    cal = Calendar(zone)
    months: dict[str, Decimal] = {}
    for key, mj in changes.totals.items():
        label = cal.month_label(key.bucket_ms)
        months[label] = months.get(label, Decimal(0)) + kwh(mj)
    return months


def test_kolkata_a_month_end_at_half_past_the_utc_hour():
    eng = fleet(KOLKATA, "2026-10-31T23:50+05:30")
    changes = eng.apply(
        [read("2026-10-31T23:50+05:30", "100"), read("2026-11-01T00:10+05:30", "100.4")]
    )
    assert rows(changes, KOLKATA) == [
        ("2026-10-31T23:50:00+05:30", "2026-11-01T00:00:00+05:30", Decimal("0.2")),
        ("2026-11-01T00:00:00+05:30", "2026-11-01T00:10:00+05:30", Decimal("0.2")),
    ]
    assert by_month(changes, KOLKATA) == {"2026-10": Decimal("0.2"), "2026-11": Decimal("0.2")}


def test_almaty_across_its_change_from_plus_6_to_plus_5_on_2024_03_01():
    # 23:50+06 is 17:50Z; 00:10+05 is 19:10Z: 80 minutes, 0.8 kWh. February's last local hour
    # 23:00-24:00 comes twice (+06 then +05); March starts at 19:00Z.
    eng = fleet(ALMATY, "2024-02-29T23:50+06:00")
    changes = eng.apply(
        [read("2024-02-29T23:50+06:00", "100"), read("2024-03-01T00:10+05:00", "100.8")]
    )
    assert rows(changes, ALMATY) == [
        ("2024-02-29T23:50:00+06:00", "2024-02-29T23:00:00+05:00", Decimal("0.1")),
        ("2024-02-29T23:00:00+05:00", "2024-03-01T00:00:00+05:00", Decimal("0.6")),
        ("2024-03-01T00:00:00+05:00", "2024-03-01T00:10:00+05:00", Decimal("0.1")),
    ]
    assert by_month(changes, ALMATY) == {"2024-02": Decimal("0.7"), "2024-03": Decimal("0.1")}


def test_a_supply_change_inside_a_month_bills_later_time_as_the_new_supply():
    first = fleet(ALMATY, "2026-11-02T10:00+05:00")
    before = first.apply(
        [read("2026-11-02T10:00+05:00", "100"), read("2026-11-02T10:20+05:00", "100.2")]
    )
    meter = replace(first.specs["rig-1"], supply=Supply.OFF_GRID, rated_w=4000)
    second = Engine(
        {"rig-1": meter}, LOOSE, Calendar(ALMATY), DEFAULT_RATES, first.states, first.open_rows
    )
    after = second.apply(
        [read("2026-11-02T10:40+05:00", "100.4")], now_ms=ms("2026-11-02T13:00+05:00")
    )
    billed = sorted(
        (r.start_ms, r.supply, r.rated_w, r.rate, kwh(r.energy_mj))
        for r in [*before.rows.values(), *after.rows.values()]
    )
    assert billed == [
        (ms("2026-11-02T10:00+05:00"), Supply.GRID, 3600, Decimal(2), Decimal("0.2")),
        (ms("2026-11-02T10:20+05:00"), Supply.OFF_GRID, 4000, Decimal(1), Decimal("0.2")),
        # the sweep deems the silence from 10:40 at the new rating, 4 kW, in hourly rows
        (ms("2026-11-02T10:40+05:00"), Supply.OFF_GRID, 4000, Decimal(1), Decimal(4) / 3),
        (ms("2026-11-02T11:00+05:00"), Supply.OFF_GRID, 4000, Decimal(1), Decimal(4)),
        (ms("2026-11-02T12:00+05:00"), Supply.OFF_GRID, 4000, Decimal(1), Decimal(4)),
    ]


def test_a_decommissioned_meter_is_accounted_to_its_end_and_refuses_later_readings():
    end = ms("2026-11-10T00:00+05:00")
    eng = fleet(ALMATY, "2026-11-09T22:00+05:00", rules=Rules(), end_ms=end)
    changes = eng.apply(
        [read("2026-11-09T23:55+05:00", "100"), read("2026-11-10T00:05+05:00", "100.1")],
        now_ms=ms("2026-11-10T06:00+05:00"),
    )
    assert [r.reason for _, r in changes.rejections] == [RejectReason.DECOMMISSIONED]
    assert eng.states["rig-1"].accrued_ms == end
    assert eng.behind(ms("2026-12-01T00:00+05:00")) == []
    assert sum(r.energy_mj for r in changes.rows.values()) == 3600 * (
        end - ms("2026-11-09T22:00+05:00")
    )
