"""The points of DESIGN.md section 4, built from exact values: tags as written (escaped by the
line protocol, not altered), deterministic times, floats only at the end (a number without the
`i` suffix is a float in line protocol, `2` as much as `2.5`)."""

from decimal import Decimal
from fractions import Fraction

from levy.core.calendar import parse_period
from levy.core.engine import Row
from levy.core.model import DeemedReason, Measure, Supply
from levy.core.rules import Baseline, MeterState
from levy.core.status import MeterStatus
from levy.core.units import MJ_PER_KWH
from levy.export.points import export_point, interval_point, liability_points, meter_point
from levy.report.figures import PeriodFigures, RateLine

HOUR = 3_600_000
START = 1_790_000_000_000


def row(reason: DeemedReason | None = None, mj: int = MJ_PER_KWH // 3, rate: str = "2") -> Row:
    return Row("Риг 1, ряд=2", START, START + HOUR, reason, mj, Supply.GRID, 3600, Decimal(rate))


def test_a_metered_row_is_one_point_at_its_start_with_its_ids_escaped_not_altered() -> None:
    line = interval_point('Экибастуз "A"', row()).to_line_protocol()
    assert line == (
        'levy_interval,basis=metered,meter=Риг\\ 1\\,\\ ряд\\=2,site=Экибастуз\\ "A",supply=grid '
        f"fee_tenge={float(Fraction(2, 3))!r},kwh={float(Fraction(1, 3))!r},rate=2,seconds=3600"
        f" {START}"
    )


def test_a_deemed_row_names_its_reason() -> None:
    line = interval_point("s", row(DeemedReason.NO_DATA, 3600 * HOUR)).to_line_protocol()
    assert line.startswith("levy_interval,basis=deemed,meter=")
    assert ",reason=no_data,site=s,supply=grid fee_tenge=7.2,kwh=3.6," in line


def test_the_fee_is_exact_until_it_becomes_a_float() -> None:
    """1/3 kWh at 0.7 tenge: the float nearest 7/30, not 0.333... x 0.7 in binary."""
    point = interval_point("s", row(rate="0.7"))
    assert f"fee_tenge={float(Fraction(7, 30))!r}," in point.to_line_protocol()


def figures(end_ms: int, lines: list[RateLine], period: str = "2026-10") -> PeriodFigures:
    return PeriodFigures(
        site="s",
        period=parse_period(period),
        timezone="Asia/Almaty",
        start_ms=end_ms - 31 * 24 * HOUR,
        end_ms=end_ms,
        coverage_start_ms=0,
        coverage_end_ms=end_ms,
        closed=False,
        meters={},
        lines={Supply.GRID: lines, Supply.OFF_GRID: [RateLine(0, Decimal(1))]},
    )


def document(**extra: str) -> dict:
    section = {"kwh": "10.000", "metered_kwh": "7.500", "deemed_kwh": "2.500", "fee_tenge": "20.00"}
    zero = {"kwh": "0.000", "metered_kwh": "0.000", "deemed_kwh": "0.000", "fee_tenge": "0.00"}
    return {
        "closed": False,
        "totals": section,
        "by_supply": {"grid": section, "off_grid": zero},
        **extra,
    }


def fields(point) -> str:
    return point.to_line_protocol().split(" ")[1]


def test_liabilities_are_the_report_s_figures_per_supply_and_for_the_site() -> None:
    end = START + 100 * HOUR
    lines = [RateLine(0, Decimal(2)), RateLine(START, Decimal(3))]
    points = liability_points(figures(end, lines), document(), START - 1)
    assert [p.to_line_protocol().split(" ")[0] for p in points] == [
        "levy_liability,period=2026-10,site=s,supply=grid",
        "levy_liability,period=2026-10,site=s,supply=off_grid",
        "levy_liability,period=2026-10,site=s,supply=all",
    ]
    grid, off_grid, site = (fields(p) for p in points)
    assert grid == (
        "closed=false,deemed_kwh=2.5,deemed_share=0.25,fee_tenge=20,kwh=10,metered_kwh=7.5,rate=2"
    )
    assert off_grid.startswith("closed=false,deemed_kwh=0,deemed_share=0,")
    assert "rate" not in site
    assert all(p.to_line_protocol().endswith(f" {START - 1}") for p in points)


def test_a_finished_period_s_point_sits_at_its_last_millisecond_with_the_last_rate() -> None:
    end = START + 100 * HOUR
    lines = [RateLine(0, Decimal(2)), RateLine(START, Decimal(3))]
    [grid, *_] = liability_points(figures(end, lines), document(), end + 5 * HOUR)
    assert grid.to_line_protocol().endswith(f" {end - 1}")
    assert fields(grid).endswith(",rate=3")


def test_a_quarter_carries_its_due_dates() -> None:
    due = {"declaration_due": "2027-02-15", "payment_due": "2027-02-25"}
    points = liability_points(
        figures(START, [RateLine(0, Decimal(2))], "2026-Q4"), document(**due), START - 1
    )
    for point in points:
        assert 'declaration_due="2027-02-15"' in fields(point)
        assert 'payment_due="2027-02-25"' in fields(point)


def test_an_energy_meter_shows_its_register_and_the_power_of_its_open_row() -> None:
    state = MeterState(START, Baseline(START + HOUR, 5 * MJ_PER_KWH), measure=Measure.ENERGY)
    point = meter_point(
        "s", "rig", Supply.GRID, MeterStatus.ONLINE, state, row(), START + HOUR + 30_000
    )
    assert fields(point) == (
        f'age_s=30,power_w={MJ_PER_KWH / 3 / HOUR!r},register_kwh=5,status="online"'
    )


def test_a_power_meter_shows_its_last_power_and_a_faulty_one_how_long() -> None:
    state = MeterState(
        START, Baseline(START, 2_500_000), faults=(START + 1000,), measure=Measure.POWER
    )
    point = meter_point(
        "s", "rig", Supply.OFF_GRID, MeterStatus.FAULT, state, row(), START + 61_000
    )
    assert fields(point) == 'age_s=61,fault_s=60,power_w=2500,status="fault"'


def test_a_meter_never_heard_has_only_its_status() -> None:
    point = meter_point("s", "rig", Supply.GRID, MeterStatus.SILENT, MeterState(START), None, START)
    assert fields(point) == 'status="silent"'


def test_the_heartbeat_says_how_far_behind() -> None:
    assert export_point("s", 12.5, 40, START).to_line_protocol() == (
        f"levy_export,site=s lag_s=12.5,pending_rows=40 {START}"
    )
