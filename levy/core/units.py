"""Exact integer units used inside the core, and their conversions.

Energy is kept in millijoules and time in milliseconds (UTC epoch), so that deemed energy
(rated watts x milliseconds) is an exact integer, sums are exact and fast in SQLite, and a
register value in kWh is exact to 8 decimal places. Values finer than that are rounded half even.
"""

from datetime import UTC, datetime
from decimal import Decimal

MJ_PER_KWH = 3_600_000_000
MS_PER_S = 1000
MS_PER_HOUR = 3_600_000
MW_PER_W = 1000


def kwh_to_mj(kwh: Decimal) -> int:
    return round(kwh * MJ_PER_KWH)  # a Decimal's round() is half even, whatever the context


def w_to_mw(watts: Decimal) -> int:
    return round(watts * MW_PER_W)


def kw_to_w(kw: Decimal) -> int:
    """Rated power is configured in kW with at most 3 decimals (whole watts)."""
    watts = kw * 1000
    if watts != watts.to_integral_value():
        raise ValueError(f"rated power {kw} kW is finer than one watt")
    return int(watts)


def datetime_to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach the site zone first")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MS_PER_S + delta.microseconds // 1000


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // MS_PER_S, UTC).replace(microsecond=(ms % MS_PER_S) * 1000)


def seconds_to_ms(seconds: Decimal) -> int:
    return round(seconds * MS_PER_S)
