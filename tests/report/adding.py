"""Checks that a report's printed figures add up at every level, as printed: rate lines to their
supply, metered and deemed to the kWh, meters to their supply, a meter's deemed intervals to its
deemed kWh, and the supplies to the site."""

from decimal import Decimal
from typing import Any

FIGURES = {"metered_kwh": 3, "deemed_kwh": 3, "kwh": 3, "fee_tenge": 2}


def units(text: str, places: int) -> int:
    """A printed figure in whole units; a figure printed with other decimals is not one."""
    value = Decimal(text)
    assert value.as_tuple().exponent == -places, text
    return int(value.scaleb(places))


def assert_adds_up(document: dict[str, Any]) -> None:
    site = dict.fromkeys(FIGURES, 0)
    for supply, section in document["by_supply"].items():
        whole = {key: units(section[key], places) for key, places in FIGURES.items()}
        assert whole["metered_kwh"] + whole["deemed_kwh"] == whole["kwh"], supply
        assert sum(units(rate["kwh"], 3) for rate in section["rates"]) == whole["kwh"], supply
        assert sum(units(r["fee_tenge"], 2) for r in section["rates"]) == whole["fee_tenge"]
        meters = [m for m in document["meters"] if m["supply"] == supply]
        for key, places in FIGURES.items():
            assert sum(units(m[key], places) for m in meters) == whole[key], (supply, key)
            site[key] += whole[key]
        for m in meters:
            deemed = units(m["deemed_kwh"], 3)
            assert units(m["metered_kwh"], 3) + deemed == units(m["kwh"], 3), m["meter"]
            intervals = [units(d["kwh"], 3) for d in m["deemed_intervals"]]
            assert sum(intervals) == deemed, m["meter"]
    totals = document["totals"]
    assert {key: units(totals[key], places) for key, places in FIGURES.items()} == site
