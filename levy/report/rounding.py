"""Rule 11: rounding happens here only, on exact values; and the one rule by which the printed
parts of a printed whole add up to it.

Units: energy is printed to 0.001 kWh, money to the tiyn (0.01 tenge). Every figure is a whole
number of units; "exact" is the value before any rounding (a Fraction of a unit).

**Wholes** are rounded half up from their exact value, or are sums of wholes:

- a supply's kWh: its exact kWh, half up;
- a rate line's fee: the line's exact kWh times its rate, half up (never the printed kWh times
  the rate); a supply's fee: the sum of its rate lines' fees;
- the site's kWh, metered and deemed kWh and fee: the sums of its supplies' figures as printed.

**Parts** are allocated from their whole by largest remainder: each part gets its exact value
rounded down, and the units still missing to reach the whole go one each to the parts with the
largest remainders, a tie to the part printed first. The parts are

- a supply's rate lines' kWh, and its metered and deemed kWh, from the supply's kWh;
- its meters' fees, from the supply's fee;
- its meters' metered and deemed kWh, from the supply's metered and deemed kWh (the meters'
  table: see `allocate_pairs`, which keeps each meter's total its exact total rounded down or
  up as well);
- a meter's deemed intervals' kWh, from the meter's deemed kWh.

So the parts add up to their whole as printed, every time. Each part is its exact value rounded
down or up (less than one unit from it) whenever the whole is its exact sum rounded down or up,
which holds for every kWh figure and for a supply's fee over one rate line. A supply's fee over
several rate lines can differ from its exact sum by up to half a tiyn per line; its meters' fees
then carry that difference too (the units go round the parts in the same order).

**Several sites** (`report -c a.toml -c b.toml`): each site is rounded by the rules above, alone,
and a consolidated figure is the sum of the sites' figures as printed, never a rounding of their
exact sum: each site files its own declaration, so the consolidation adds up to what was filed,
per rate line (lines match by supply, rate and effective date), per supply and for the whole, in
kWh, metered and deemed kWh and fee. Two sites of 0.0025 kWh each print 0.003 each and 0.006
together (`consolidate.py`).
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from levy.core.units import MJ_PER_KWH

KWH_PLACES = 3
TENGE_PLACES = 2


def kwh_exact(mj: int) -> Fraction:
    return Fraction(mj, MJ_PER_KWH)


def kwh_units(mj: int | Fraction) -> Fraction:
    """Exact energy in printed units (0.001 kWh)."""
    return Fraction(mj * 10**KWH_PLACES, MJ_PER_KWH)


def tiyn_units(tenge_exact: Fraction) -> Fraction:
    """Exact money in printed units (the tiyn)."""
    return tenge_exact * 10**TENGE_PLACES


def half_up_units(value: Fraction) -> int:
    """The nearest whole unit, a half away from zero."""
    if value < 0:
        return -half_up_units(-value)
    return (value.numerator * 2 + value.denominator) // (value.denominator * 2)


def half_up(value: Fraction, places: int) -> Decimal:
    return shown(half_up_units(value * 10**places), places)


def shown(units: int, places: int) -> Decimal:
    """A whole number of units as the decimal the report prints."""
    return Decimal(units).scaleb(-places)


def kwh_shown(mj: int) -> Decimal:
    return half_up(kwh_exact(mj), KWH_PLACES)


def tenge(value: Fraction) -> Decimal:
    return half_up(value, TENGE_PLACES)


def allocate(whole: int, parts: Sequence[Fraction]) -> list[int]:
    """`whole` units shared out over exact `parts` (in units) by largest remainder, so that they
    add up to it: each part rounded down, then the missing units one each to the largest
    remainders, a tie to the earlier part. Should the whole lie outside the parts' floors and
    ceilings (a fee over several rate lines, see above), the units go round the parts in that
    same order as often as needed, or are taken back from the smallest remainders first."""
    if not parts:
        if whole:
            raise ValueError(f"{whole} units to share out over no parts")
        return []
    _, floors, rests = _floors_and_rests(parts)
    return _largest_remainder(whole, floors, rests)


def _floors_and_rests(values: Sequence[Fraction]) -> tuple[int, list[int], list[int]]:
    """A denominator common to all the values, each value rounded down, and its remainder as a
    whole number over that denominator (so remainders compare and add as plain integers)."""
    denominator = math.lcm(*(value.denominator for value in values))
    numerators = [value.numerator * (denominator // value.denominator) for value in values]
    return (
        denominator,
        [n // denominator for n in numerators],
        [n % denominator for n in numerators],
    )


def _largest_remainder(whole: int, floors: list[int], rests: list[int]) -> list[int]:
    order = sorted(range(len(floors)), key=lambda i: (-rests[i], i))
    rounds, extra = divmod(whole - sum(floors), len(floors))
    result = list(floors)
    for rank, i in enumerate(order):
        result[i] += rounds + (1 if rank < extra else 0)
    return result


def allocate_pairs(
    totals: tuple[int, int], rows: Sequence[tuple[Fraction, Fraction]]
) -> list[tuple[int, int]]:
    """Rows of two exact parts (a meter's metered and deemed kWh, in units) rounded so that each
    column adds up to its printed total, each part is its exact value rounded down or up, and so
    is each row's sum (the meter's kWh). `totals` must be the columns' exact sums each rounded
    down or up, adding up to the rows' exact total rounded down or up (as `allocate` gives them
    from a supply's kWh).

    The first column is allocated by largest remainder. The second column then takes, by largest
    remainder, the units its total still needs among the rows whose sum stays within one unit of
    exact. Where the first column's choice leaves too few such rows (or forces too many), a
    first-column unit moves from one row to another, fewest moves, the row with the largest
    remainder first: such a choice always exists, and then both columns and every row hold."""
    first_total, second_total = totals
    n = len(rows)
    if not n:
        if first_total or second_total:
            raise ValueError(f"column totals {totals} to share out over no rows")
        return []
    denominator, floors, rests = _floors_and_rests([*(a for a, _ in rows), *(b for _, b in rows)])
    first_floor, second_floor = floors[:n], floors[n:]
    first_rest, second_rest = rests[:n], rests[n:]
    # each row's sum may take this many units above its two floors: [low, high]
    sums = [a + b for a, b in zip(first_rest, second_rest, strict=True)]
    low = [total // denominator for total in sums]
    high = [-(-total // denominator) for total in sums]
    first = _largest_remainder(first_total, first_floor, first_rest)
    first_up = [units - floor for units, floor in zip(first, first_floor, strict=True)]
    if any(up not in (0, 1) or (up and not first_rest[i]) for i, up in enumerate(first_up)):
        raise ValueError(f"column total {first_total} is not its parts' sum rounded")
    needed = second_total - sum(second_floor)

    def second_low(i: int) -> int:
        return max(0, low[i] - first_up[i])

    def second_high(i: int) -> int:
        return min(1 if second_rest[i] else 0, high[i] - first_up[i])

    by_rest = sorted(range(n), key=lambda i: (-first_rest[i], i))
    least = sum(second_low(i) for i in range(n))
    most = sum(second_high(i) for i in range(n))
    if needed < least:
        # rows forced to take a second unit lose it if they take the first-column unit of a row
        # that is not forced without it
        takers = (i for i in by_rest if not first_up[i] and low[i])
        givers = (i for i in reversed(by_rest) if first_up[i] and not low[i])
        for _ in range(least - needed):
            taker, giver = _next(takers, givers, first_total, second_total)
            first_up[taker], first_up[giver] = 1, 0
    elif needed > most:
        # rows kept from a second unit by their first-column unit give it to a row that loses
        # no room by taking it
        givers = (i for i in reversed(by_rest) if first_up[i] and second_rest[i] and high[i] == 1)
        takers = (
            i
            for i in by_rest
            if not first_up[i] and first_rest[i] and (not second_rest[i] or high[i] == 2)
        )
        for _ in range(needed - most):
            taker, giver = _next(takers, givers, first_total, second_total)
            first_up[taker], first_up[giver] = 1, 0
    second_up = [second_low(i) for i in range(n)]
    free = sorted(
        (i for i in range(n) if second_high(i) > second_low(i)), key=lambda i: (-second_rest[i], i)
    )
    missing = needed - sum(second_up)
    if not 0 <= missing <= len(free):
        raise ValueError(f"column totals {totals} are not their parts' sums rounded")
    for i in free[:missing]:
        second_up[i] = 1
    return [(first_floor[i] + first_up[i], second_floor[i] + second_up[i]) for i in range(n)]


def _next(takers, givers, first_total: int, second_total: int) -> tuple[int, int]:
    taker, giver = next(takers, None), next(givers, None)
    if taker is None or giver is None:
        raise ValueError(f"column totals ({first_total}, {second_total}) cannot be met")
    return taker, giver
