"""A report over several sites: each site's document whole, as it reports alone, and a
consolidated total per supply and per rate line.

A consolidated figure is the sum of the sites' figures as printed (`rounding.py`): each site's
declaration figures are what it files, so the consolidation adds up as printed, to the tiyn and
the 0.001 kWh, per rate line, per supply and for the whole. Rate lines match by supply, rate and
effective date: the step's local wall time at each site (a statute's "from 1 January" is each
site's local midnight, whatever its zone)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from levy.report.rounding import KWH_PLACES, TENGE_PLACES, shown

FIGURES = {
    "kwh": KWH_PLACES,
    "metered_kwh": KWH_PLACES,
    "deemed_kwh": KWH_PLACES,
    "fee_tenge": TENGE_PLACES,
}
LINE_FIGURES = {"kwh": KWH_PLACES, "fee_tenge": TENGE_PLACES}


def printed_units(text: str, places: int) -> int:
    """A printed figure in whole units (0.001 kWh, the tiyn)."""
    value = Decimal(text).scaleb(places)
    if value != value.to_integral_value():
        raise ValueError(f"{text} is not printed to {places} places")
    return int(value)


def added(sections: list[dict[str, Any]], figures: dict[str, int]) -> dict[str, str]:
    return {
        key: str(shown(sum(printed_units(s[key], places) for s in sections), places))
        for key, places in figures.items()
    }


def wall_time(iso: str) -> str:
    """An instant as the local wall time it was printed in, without its offset."""
    return datetime.fromisoformat(iso).replace(tzinfo=None).isoformat()


@dataclass
class LineGroup:
    """One consolidated rate line: the sites' lines of one rate and effective date."""

    rate: str
    lines: list[dict[str, str]] = field(default_factory=list)

    def fields(self) -> dict[str, str]:
        starts = {line["from"] for line in self.lines}
        # one zone (or one offset) prints the instant; several print the local wall time
        start = starts.pop() if len(starts) == 1 else wall_time(self.lines[0]["from"])
        return {"from": start, "tenge_per_kwh": self.rate, **added(self.lines, LINE_FIGURES)}


def rate_lines(sections: list[dict[str, Any]]) -> list[dict[str, str]]:
    groups: dict[tuple[str, Decimal], LineGroup] = {}
    for section in sections:
        for line in section["rates"]:
            key = (wall_time(line["from"]), Decimal(line["tenge_per_kwh"]))
            groups.setdefault(key, LineGroup(line["tenge_per_kwh"])).lines.append(line)
    return [groups[key].fields() for key in sorted(groups)]


def supplies(documents: list[dict[str, Any]]) -> list[str]:
    """Every supply any site reports, in the order the sites report them."""
    return list(dict.fromkeys(s for document in documents for s in document["by_supply"]))


def consolidate(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The report over the sites' documents (one period, in the order the sites were given)."""
    by_supply = {}
    for supply in supplies(documents):
        sections = [d["by_supply"][supply] for d in documents if supply in d["by_supply"]]
        by_supply[supply] = {**added(sections, FIGURES), "rates": rate_lines(sections)}
    consolidated: dict[str, Any] = {
        "sites": [d["site"] for d in documents],
        "timezones": list(dict.fromkeys(d["timezone"] for d in documents)),
        "closed": all(d["closed"] for d in documents),
        "provisional": [f"{d['site']}: {reason}" for d in documents for reason in d["provisional"]],
    }
    first = documents[0]
    if "declaration_due" in first:
        consolidated["due"] = {
            "declaration": first["declaration_due"],
            "payment": first["payment_due"],
        }
    consolidated["totals"] = added([d["totals"] for d in documents], FIGURES)
    consolidated["by_supply"] = by_supply
    return {"period": first["period"], "sites": documents, "consolidated": consolidated}
