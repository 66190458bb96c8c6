"""The period day by day: per local day and supply, the metered and deemed energy, exact from the
ledger's rows, then as printed.

The per-bucket totals the report sums are a month's (under one rate step), too coarse for days;
the rows are stored inside one local clock hour each, and a local midnight is a local clock hour
boundary, so every row lies in exactly one day and the days add up exactly to the period.

As printed, the days are parts of their supply's printed metered and deemed kWh (the report
document's figures), allocated from them by the rule of `rounding.py` (`allocate_pairs`): each
supply's days add up to its printed figures, metered plus deemed to the day's kWh, and every day
is its exact value rounded down or up."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from levy.core.calendar import Calendar, Period
from levy.core.model import Supply
from levy.ledger.store import Ledger
from levy.report.figures import Energy
from levy.report.rounding import KWH_PLACES, allocate_pairs, kwh_units


@dataclass
class DayEnergy:
    day: date
    start_ms: int
    by_supply: dict[Supply, Energy] = field(
        default_factory=lambda: {supply: Energy() for supply in Supply}
    )


class PrintedDay(NamedTuple):
    """One day of one supply as printed, in units of 0.001 kWh."""

    day: date
    metered: int
    deemed: int


def period_days(calendar: Calendar, period: Period) -> list[DayEnergy]:
    """Every local day of the period, with its first instant, and no energy yet."""
    _, end = calendar.period_bounds(period)
    days, day = [], date(period.year, period.first_month, 1)
    while (start_ms := calendar.local_midnight_ms(day.year, day.month, day.day)) < end:
        days.append(DayEnergy(day, start_ms))
        day += timedelta(days=1)
    return days


def daily_energy(ledger: Ledger, calendar: Calendar, period: Period) -> list[DayEnergy]:
    """The exact energy of each day of the period, by supply and basis."""
    days = period_days(calendar, period)
    _, end = calendar.period_bounds(period)
    for day, day_end in zip(days, [*(day.start_ms for day in days[1:]), end], strict=True):
        for (supply, deemed), energy_mj in ledger.energy_by_supply(day.start_ms, day_end).items():
            if deemed:
                day.by_supply[supply].deemed_mj += energy_mj
            else:
                day.by_supply[supply].metered_mj += energy_mj
    return days


def printed_days(days: list[DayEnergy], document: dict[str, Any]) -> dict[Supply, list[PrintedDay]]:
    """Each supply's days as printed: allocated from the supply's printed metered and deemed kWh
    in the report document of the same period."""
    printed = {}
    for supply in Supply:
        section = document["by_supply"][supply.value]
        totals = (units(section["metered_kwh"]), units(section["deemed_kwh"]))
        energies = [day.by_supply[supply] for day in days]
        exact = [(kwh_units(e.metered_mj), kwh_units(e.deemed_mj)) for e in energies]
        printed[supply] = [
            PrintedDay(day.day, metered, deemed)
            for day, (metered, deemed) in zip(days, allocate_pairs(totals, exact), strict=True)
        ]
    return printed


def units(kwh: str) -> int:
    """A printed kWh figure in units of 0.001 kWh."""
    return int(Decimal(kwh).scaleb(KWH_PLACES))
