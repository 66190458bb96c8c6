"""The one rounding rule of rounding.py: wholes half up, parts allocated by largest remainder so
that they add up to their whole as printed, each within one unit of its exact value. Cases by
hand first, then the properties for any figures."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levy.config.zone import load_zone
from levy.core.calendar import Calendar, parse_period
from levy.core.model import Basis, DeemedReason, Supply
from levy.core.units import MJ_PER_KWH
from levy.report.figures import DeemedSpan, MeterFigures, PeriodFigures, RateLine
from levy.report.render import to_document
from levy.report.rounding import allocate, allocate_pairs, half_up_units, kwh_units
from tests.report.adding import assert_adds_up

F = Fraction


def test_the_issue_s_rate_lines_add_up_to_their_supply():
    """5.2505 + 5.2525 = 10.503 kWh: rounded alone the lines print 5.251 + 5.253 = 10.504; the
    allocation gives the one unit left after the floors to the first of the tied remainders."""
    assert half_up_units(F(10503)) == 10503
    assert allocate(10503, [F(52505, 10), F(52525, 10)]) == [5251, 5252]


def test_the_largest_remainders_take_the_units_and_a_tie_goes_to_the_first_printed():
    # floors 743 + 742 + 741 = 2226; one unit left: .5, .5 and .25 -> the first .5
    assert allocate(2227, [F(7435, 10), F(7425, 10), F(74125, 100)]) == [744, 742, 741]
    assert allocate(1, [F(1, 2), F(1, 2)]) == [1, 0]
    assert allocate(1, [F(1, 3), F(2, 3)]) == [0, 1]


def test_meter_fees_share_a_supply_fee_that_is_a_sum_of_rounded_lines():
    # three meters of 93.525, 93.425 and 93.3 tiyn; the supply's fee is 108 + 173 = 281 tiyn
    assert allocate(281, [F(93525, 1000), F(93425, 1000), F(933, 10)]) == [94, 94, 93]
    # two lines of half a tiyn each print 1 + 1: the one meter's exact 1 tiyn shows as 2
    assert allocate(2, [F(1)]) == [2]


def test_a_whole_below_the_floors_takes_from_the_smallest_remainder_last_printed():
    assert allocate(2, [F(1), F(1), F(1)]) == [1, 1, 0]
    assert allocate(5, [F(21, 10), F(2), F(1)]) == [2, 2, 1]


def test_nothing_to_share_and_no_parts():
    assert allocate(0, []) == []
    with pytest.raises(ValueError, match="no parts"):
        allocate(1, [])


def test_a_meter_s_metered_and_deemed_move_together_so_that_its_total_stays_within_a_unit():
    """Meter 1: 0.5 metered + 0.5 deemed (exactly 1 unit); meter 2: 0.5 metered. The supply's
    1.5 prints as 2: metered 1 (exact), deemed 1 (0.5, the larger remainder). Column by column,
    meter 1 would take both units (the metered tie goes to the first): 2 against its exact 1.
    The metered unit moves to meter 2 instead."""
    assert allocate(2, [F(1), F(1, 2)]) == [1, 1]
    assert allocate_pairs((1, 1), [(F(1, 2), F(1, 2)), (F(1, 2), F(0))]) == [(0, 1), (1, 0)]


def test_a_meter_forced_to_round_up_takes_a_metered_unit_from_one_that_is_not():
    """Meter 1 is exactly 1 unit (0.5 + 0.5); meters 2 and 3 are 0.6 metered each. Supply 2.2
    prints 2, metered 2 (1.7 rounded up), deemed 0. The metered column alone goes to meters 2
    and 3, which leaves meter 1 at 0 against its exact 1; meter 3 gives its unit to meter 1."""
    rows = [(F(1, 2), F(1, 2)), (F(3, 5), F(0)), (F(3, 5), F(0))]
    assert allocate(2, [F(17, 10), F(1, 2)]) == [2, 0]
    assert allocate_pairs((2, 0), rows) == [(1, 0), (1, 0), (0, 0)]


def test_column_totals_that_are_not_their_parts_rounded_are_refused():
    with pytest.raises(ValueError):
        allocate_pairs((3, 0), [(F(1, 2), F(0)), (F(1, 2), F(0))])


units = st.fractions(min_value=0, max_value=10_000, max_denominator=10_000)


def within_one_unit(printed: int, exact: Fraction) -> bool:
    return math.floor(exact) <= printed <= math.ceil(exact)


@settings(max_examples=500)
@given(st.lists(units, max_size=12), st.data())
def test_parts_always_add_up_to_the_whole_and_each_stays_within_a_unit(parts, data):
    exact = sum(parts, F(0))
    whole = data.draw(st.sampled_from(sorted({math.floor(exact), math.ceil(exact)})))
    if not parts:
        whole = 0
    printed = allocate(whole, parts)
    assert sum(printed) == whole
    assert all(within_one_unit(p, x) for p, x in zip(printed, parts, strict=True))


@settings(max_examples=300)
@given(st.lists(units, min_size=1, max_size=8), st.integers(-20, 20))
def test_any_whole_is_met_and_the_units_go_round_in_order(parts, shift):
    """A whole away from the parts' sum (a fee over many rate lines) is still met exactly, each
    part moving by at most one unit more than its share of the difference."""
    whole = max(0, half_up_units(sum(parts, F(0))) + shift)
    printed = allocate(whole, parts)
    assert sum(printed) == whole
    spread = -(-abs(whole - sum(math.floor(p) for p in parts)) // len(parts))
    assert all(abs(p - x) <= spread + 1 for p, x in zip(printed, parts, strict=True))


@settings(max_examples=500)
@given(st.lists(st.tuples(units, units), max_size=10), st.data())
def test_meter_rows_add_up_by_column_and_each_cell_and_row_stays_within_a_unit(rows, data):
    first = sum((a for a, _ in rows), F(0))
    second = sum((b for _, b in rows), F(0))
    whole = data.draw(
        st.sampled_from(sorted({math.floor(first + second), math.ceil(first + second)}))
    )
    columns = [
        (m, whole - m)
        for m in {math.floor(first), math.ceil(first)}
        if within_one_unit(whole - m, second)
    ]
    assert columns, "a whole rounded from the sum always splits into rounded columns"
    for totals in columns:
        printed = allocate_pairs(totals, rows)
        assert sum(a for a, _ in printed) == totals[0]
        assert sum(b for _, b in printed) == totals[1]
        for (a, b), (x, y) in zip(printed, rows, strict=True):
            assert within_one_unit(a, x) and within_one_unit(b, y)
            assert within_one_unit(a + b, x + y)


HOUR_MS = 3_600_000
OCTOBER = parse_period("2026-10")
CALENDAR = Calendar(load_zone("Asia/Almaty"))
START = CALENDAR.period_bounds(OCTOBER)[0]


class Site:
    """A month's figures built the way `build_figures` builds them: every bucket adds to its
    meter and to its supply's rate line."""

    def __init__(self, rates: dict[Supply, list[Decimal]]) -> None:
        self.lines = {
            supply: [RateLine(START + i * 10 * 24 * HOUR_MS, rate) for i, rate in enumerate(steps)]
            for supply, steps in rates.items()
        }
        self.meters: dict[tuple[str, Supply, int], MeterFigures] = {}

    def bill(self, meter: str, supply: Supply, step: int, kind: str, mj: int) -> None:
        line = self.lines[supply][step % len(self.lines[supply])]
        figures = self.meters.setdefault((meter, supply, 1000), MeterFigures(meter, supply, 1000))
        reasons = list(DeemedReason)
        reason = None if kind == Basis.METERED.value else reasons[step % len(reasons)]
        line.energy.add(reason, mj)
        figures.energy.add(reason, mj)
        figures.fee += Fraction(mj, MJ_PER_KWH) * Fraction(line.per_kwh)
        if reason is not None:
            at = START + len(figures.deemed) * HOUR_MS
            figures.deemed.append(DeemedSpan(at, at + HOUR_MS, reason, mj))

    def figures(self) -> PeriodFigures:
        return PeriodFigures(
            site="s",
            period=OCTOBER,
            timezone="Asia/Almaty",
            start_ms=START,
            end_ms=START + 31 * 24 * HOUR_MS,
            coverage_start_ms=START,
            coverage_end_ms=START + 31 * 24 * HOUR_MS,
            closed=True,
            meters=self.meters,
            lines=self.lines,
        )


rates = st.lists(st.decimals("0.001", "9.999", places=3), min_size=1, max_size=3)
bills = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "Риг 1"]),
        st.sampled_from(list(Supply)),
        st.integers(0, 2),
        st.sampled_from([Basis.METERED.value, "no_data"]),
        st.integers(0, 5 * MJ_PER_KWH),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(rates, rates, bills)
def test_every_printed_figure_adds_up_in_the_document(grid, off_grid, billed):
    site = Site({Supply.GRID: grid, Supply.OFF_GRID: off_grid})
    for bill in billed:
        site.bill(*bill)
    figures = site.figures()
    document = to_document(figures, CALENDAR)
    assert_adds_up(document)
    for supply in Supply:
        exact = kwh_units(figures.supply_energy(supply).total_mj)
        section = document["by_supply"][supply.value]
        # the filed figures: the supply's kWh half up, its fee the sum of its lines' half up
        assert Decimal(section["kwh"]) == Decimal(half_up_units(exact)).scaleb(-3)
        assert Decimal(section["fee_tenge"]) == figures.supply_fee(supply)
    for m, row in zip(
        sorted(figures.meters.values(), key=lambda m: (m.meter, m.supply, m.rated_w)),
        document["meters"],
        strict=True,
    ):
        assert within_one_unit(int(Decimal(row["kwh"]).scaleb(3)), kwh_units(m.energy.total_mj))
