"""Rule 11: rounding happens here only, on exact values, half up."""

from decimal import Decimal
from fractions import Fraction

from levy.core.units import MJ_PER_KWH

KWH_PLACES = 3
TENGE_PLACES = 2


def kwh_exact(mj: int) -> Fraction:
    return Fraction(mj, MJ_PER_KWH)


def half_up(value: Fraction, places: int) -> Decimal:
    scale = 10**places
    scaled = value * scale
    whole = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    if scaled < 0:
        whole = -((-scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2))
    return Decimal(whole).scaleb(-places)


def kwh_shown(mj: int) -> Decimal:
    return half_up(kwh_exact(mj), KWH_PLACES)


def tenge(value: Fraction) -> Decimal:
    return half_up(value, TENGE_PLACES)
