"""Figures as the report prints them: whole numbers of units (0.001 kWh, the tiyn, 0.01 %) and
their text, rounded by the rule of `rounding.py`."""

from dataclasses import dataclass
from fractions import Fraction

from levy.report.figures import Energy
from levy.report.rounding import (
    KWH_PLACES,
    TENGE_PLACES,
    allocate,
    allocate_pairs,
    half_up_units,
    kwh_units,
    shown,
)

PERCENT_PLACES = 2


@dataclass(frozen=True)
class Printed:
    """One row's figures as printed, in units (0.001 kWh, the tiyn)."""

    metered: int
    deemed: int
    fee: int

    @property
    def kwh(self) -> int:
        return self.metered + self.deemed

    def fields(self) -> dict[str, str]:
        return {
            **energy_fields(self.metered, self.deemed),
            "fee_tenge": str(shown(self.fee, TENGE_PLACES)),
        }


def kwh_text(units: int) -> str:
    return str(shown(units, KWH_PLACES))


def energy_fields(metered: int, deemed: int) -> dict[str, str]:
    return {
        "kwh": kwh_text(metered + deemed),
        "metered_kwh": kwh_text(metered),
        "deemed_kwh": kwh_text(deemed),
    }


def whole_energy(whole: Energy) -> tuple[int, int]:
    """A whole's metered and deemed kWh as printed: its kWh half up, the two allocated from it."""
    kwh = half_up_units(kwh_units(whole.total_mj))
    metered, deemed = allocate(kwh, [kwh_units(whole.metered_mj), kwh_units(whole.deemed_mj)])
    return metered, deemed


def shared_energy(
    whole: Energy, parts: list[Energy]
) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """A whole's metered and deemed kWh as printed (its kWh half up, the two allocated from it),
    and its parts' (allocated from those, each part's kWh within a unit of exact)."""
    metered, deemed = whole_energy(whole)
    rows = allocate_pairs(
        (metered, deemed),
        [(kwh_units(part.metered_mj), kwh_units(part.deemed_mj)) for part in parts],
    )
    return (metered, deemed), rows


def percent_text(part: int, whole: int) -> str | None:
    """`part` as a percentage of `whole` (both in the same units), to 0.01 half away from zero;
    None when the whole is zero."""
    if whole == 0:
        return None
    units = half_up_units(Fraction(part * 100 * 10**PERCENT_PLACES, whole))
    return str(shown(units, PERCENT_PLACES))
