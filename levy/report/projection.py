"""The operator's projection of a period that is not over: its figures to date plus the run rate
over the time left (see `runrate.py`), at the rates the schedule has in force in that time.

Rounded as the report rounds, and adding up as printed: a supply's projected kWh and fee are its
printed figures to date plus the exact remainder rounded half up (kWh to 0.001, tenge to the
tiyn); the site's are the sums of its supplies'."""

from typing import Any

from levy.core.calendar import Calendar
from levy.core.model import Supply
from levy.core.units import MS_PER_S
from levy.report.figures import PeriodFigures
from levy.report.printed import Printed, kwh_text
from levy.report.rounding import TENGE_PLACES, half_up_units, kwh_units, shown, tiyn_units
from levy.report.runrate import RunRate

UNITS_OF_TIME = ((86_400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def projection(
    figures: PeriodFigures, to_date: dict[Supply, Printed], calendar: Calendar
) -> dict[str, Any] | None:
    """None once the period is over at the ledger clock (or before anything of it is accounted).
    `to_date` is each supply's figures as the report prints them."""
    rate = figures.run_rate
    if rate is None:
        return None
    by_supply: dict[str, dict[str, str]] = {}
    kwh_sum = fee_sum = 0
    for supply in Supply:
        kwh = to_date[supply].kwh + half_up_units(kwh_units(rate.remaining_mj(supply)))
        fee = to_date[supply].fee + half_up_units(tiyn_units(rate.remaining_tenge(supply)))
        by_supply[supply.value] = {"kwh": kwh_text(kwh), "fee_tenge": tenge_text(fee)}
        kwh_sum, fee_sum = kwh_sum + kwh, fee_sum + fee
    return {
        "as_of": calendar.iso(rate.as_of_ms),
        "basis": basis(rate, calendar),
        "kwh": kwh_text(kwh_sum),
        "fee_tenge": tenge_text(fee_sum),
        "by_supply": by_supply,
    }


def tenge_text(units: int) -> str:
    return str(shown(units, TENGE_PLACES))


def basis(rate: RunRate, calendar: Calendar) -> str:
    """How the run rate was taken, with the window's billed kWh, so it can be redone by hand."""
    window = ", ".join(
        f"{supply.value} {kwh_text(half_up_units(kwh_units(rate.energy_mj[supply])))} kWh"
        for supply in Supply
    )
    return (
        f"figures to date plus the billed kWh per second of {calendar.iso(rate.since_ms)} .. "
        f"{calendar.iso(rate.as_of_ms)} ({duration(rate.window_ms)}: {window}) times the "
        f"{duration(rate.end_ms - rate.as_of_ms)} left to {calendar.iso(rate.end_ms)}, per "
        "supply, at the rates in force in that time"
    )


def duration(ms: int) -> str:
    """Like `16 d 12 h 30 min` (whole seconds: the times either side are exact)."""
    left, parts = ms // MS_PER_S, []
    for size, name in UNITS_OF_TIME:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts) or "0 s"
