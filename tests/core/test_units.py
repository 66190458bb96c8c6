"""The unit conversions round half even to whole units, whatever the decimal context says."""

import decimal
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from levy.core.units import MJ_PER_KWH, MS_PER_S, MW_PER_W, kwh_to_mj, seconds_to_ms, w_to_mw

values = st.decimals(min_value=0, max_value=Decimal("1E+15"), allow_nan=False, places=None)


def half_even(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_HALF_EVEN))


@given(values)
def test_conversions_round_half_even(value):
    assert kwh_to_mj(value) == half_even(value * MJ_PER_KWH)
    assert w_to_mw(value) == half_even(value * MW_PER_W)
    assert seconds_to_ms(value) == half_even(value * MS_PER_S)


def test_a_half_goes_to_the_even_neighbour_under_any_context_rounding():
    with decimal.localcontext() as context:
        context.rounding = ROUND_HALF_UP
        assert seconds_to_ms(Decimal("0.0025")) == 2
        assert seconds_to_ms(Decimal("0.0035")) == 4
        assert w_to_mw(Decimal("0.0005")) == 0
