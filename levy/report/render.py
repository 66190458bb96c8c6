"""The report's three faces: JSON (the contract), CSV (for spreadsheets), a table (for people)."""

import csv
import io
import json
from decimal import Decimal
from typing import Any

from levy.core.calendar import Calendar
from levy.core.model import Supply
from levy.report.figures import Energy, PeriodFigures, due_dates
from levy.report.rounding import kwh_shown, tenge


def energy_fields(energy: Energy) -> dict[str, str]:
    return {
        "kwh": str(kwh_shown(energy.total_mj)),
        "metered_kwh": str(kwh_shown(energy.metered_mj)),
        "deemed_kwh": str(kwh_shown(energy.deemed_mj)),
    }


def supply_section(figures: PeriodFigures, supply: Supply, calendar: Calendar) -> dict[str, Any]:
    lines = figures.lines[supply]
    rates = [
        {
            "from": calendar.iso(line.from_ms),
            "tenge_per_kwh": str(line.per_kwh),
            "kwh": str(kwh_shown(line.energy.total_mj)),
            "fee_tenge": str(tenge(line.fee)),
        }
        for line in lines
    ]
    fee = figures.supply_fee(supply)
    return {**energy_fields(figures.supply_energy(supply)), "fee_tenge": str(fee), "rates": rates}


def to_document(figures: PeriodFigures, calendar: Calendar) -> dict[str, Any]:
    by_supply = {supply.value: supply_section(figures, supply, calendar) for supply in Supply}
    total = Energy(
        sum(figures.supply_energy(s).metered_mj for s in Supply),
        sum(figures.supply_energy(s).deemed_mj for s in Supply),
    )
    fee = sum((Decimal(section["fee_tenge"]) for section in by_supply.values()), Decimal("0.00"))
    document: dict[str, Any] = {
        "site": figures.site,
        "period": figures.period.label,
        "timezone": figures.timezone,
        "period_start": calendar.iso(figures.start_ms),
        "period_end": calendar.iso(figures.end_ms),
        "coverage_start": calendar.iso(figures.coverage_start_ms),
        "coverage_end": calendar.iso(figures.coverage_end_ms),
        "closed": figures.closed,
    }
    if figures.period.is_quarter:
        declaration, payment = due_dates(figures.period)
        document["declaration_due"] = declaration.isoformat()
        document["payment_due"] = payment.isoformat()
    document["totals"] = {**energy_fields(total), "fee_tenge": str(fee)}
    document["by_supply"] = by_supply
    document["meters"] = [
        {
            "meter": m.meter,
            "supply": m.supply.value,
            "rated_kw": format(Decimal(m.rated_w).scaleb(-3).normalize(), "f"),
            **energy_fields(m.energy),
            "fee_tenge": str(tenge(m.fee)),
            "deemed_intervals": [
                {
                    "start": calendar.iso(span.start_ms),
                    "end": calendar.iso(span.end_ms),
                    "reason": span.reason,
                    "kwh": str(kwh_shown(span.energy_mj)),
                }
                for span in m.deemed
            ],
        }
        for m in sorted(figures.meters.values(), key=lambda m: (m.meter, m.supply, m.rated_w))
    ]
    return document


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ["meter", "supply", "rated_kw", "kwh", "metered_kwh", "deemed_kwh", "fee_tenge"]


def render_csv(document: dict[str, Any]) -> str:
    """One row per meter, then a TOTAL row per supply and one for the site."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(document["meters"])
    for supply, section in document["by_supply"].items():
        writer.writerow({"meter": "TOTAL", "supply": supply, **section})
    writer.writerow({"meter": "TOTAL", "supply": "all", **document["totals"]})
    return out.getvalue()


def render_table(document: dict[str, Any]) -> str:
    head = [
        f"Levy report {document['period']} for site {document['site']} ({document['timezone']})",
        f"period   {document['period_start']} .. {document['period_end']}"
        f"  {'CLOSED' if document['closed'] else 'open'}",
        f"covered  {document['coverage_start']} .. {document['coverage_end']}",
    ]
    if "declaration_due" in document:
        head.append(
            f"due      declaration {document['declaration_due']}, payment {document['payment_due']}"
        )
    rows = [["meter", "supply", "rated kW", "kWh", "metered", "deemed", "fee, tenge"]]
    rows += [[m[c] for c in CSV_COLUMNS] for m in document["meters"]]
    for supply, section in document["by_supply"].items():
        rows.append(["TOTAL", supply, "", *(section[c] for c in CSV_COLUMNS[3:])])
    rows.append(["TOTAL", "all", "", *(document["totals"][c] for c in CSV_COLUMNS[3:])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    body = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    rates = [
        f"rate     {supply}: {r['tenge_per_kwh']} tenge/kWh from {r['from']}"
        for supply, section in document["by_supply"].items()
        for r in section["rates"]
    ]
    deemed = [
        f"  {m['meter']}  {d['start']} .. {d['end']}  {d['reason']}  {d['kwh']} kWh"
        for m in document["meters"]
        for d in m["deemed_intervals"]
    ]
    if deemed:
        deemed.insert(0, "\ndeemed at rated power:")
    return "\n".join([*head, *rates, "", *body, *deemed]) + "\n"
