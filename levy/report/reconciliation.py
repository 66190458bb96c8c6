"""Reconciliation: the billed kWh set against the site's main meters and the utility's invoices,
per supply. None of it is filed: it says how far the filed figure can be trusted.

Every figure is printed as the report prints kWh, and the line adds up as printed: the
difference is the printed billed kWh less the printed reference, its percent is of the printed
reference (to 0.01, half away from zero), and the line is flagged when that printed percent is
beyond the tolerance (or, against a reference of zero, when there is any difference)."""

from decimal import Decimal
from typing import Any

from levy.core.calendar import Calendar
from levy.core.model import Supply
from levy.ledger.invoices import Invoice
from levy.report.figures import Energy, PeriodFigures, References
from levy.report.printed import Printed, energy_fields, kwh_text, percent_text, shared_energy
from levy.report.rounding import KWH_PLACES, half_up_units, kwh_units

SITE_MAIN = "site_main"
INVOICE = "invoice"


def reconciliation(
    figures: PeriodFigures, billed: dict[Supply, Printed], calendar: Calendar
) -> dict[str, Any]:
    """One line per supply with a main meter for the period, then one per month and supply with
    an invoice. `billed` is each supply's figures as the report prints them."""
    references = figures.references
    main_meters: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for supply in Supply:
        own = sorted(
            (meter, energy)
            for (meter, of), energy in references.main_meters.items()
            if of is supply
        )
        if not own:
            continue
        whole = Energy(
            sum(energy.metered_mj for _, energy in own), sum(energy.deemed_mj for _, energy in own)
        )
        (metered, deemed), shares = shared_energy(whole, [energy for _, energy in own])
        main_meters += [
            {"meter": meter, "supply": supply.value, **energy_fields(*share)}
            for (meter, _), share in zip(own, shares, strict=True)
        ]
        reference = metered + deemed
        line = compared(
            supply, SITE_MAIN, figures.period.label, reference, billed[supply].kwh, references
        )
        line["reference_deemed_pct"] = percent_text(deemed, metered + deemed)
        lines.append(line)
    for month in figures.period.month_labels():
        for supply in Supply:
            entries = [i for i in references.invoices if i.period == month and i.supply is supply]
            if entries:
                lines.append(invoice_line(figures, supply, month, entries, calendar))
    return {
        "tolerance_pct": str(references.tolerance_pct),
        "main_meters": main_meters,
        "lines": lines,
    }


def invoice_line(
    figures: PeriodFigures,
    supply: Supply,
    month: str,
    entries: list[Invoice],
    calendar: Calendar,
) -> dict[str, Any]:
    """The latest entry against the month's billed kWh as the month's own report prints it."""
    *earlier, latest = entries
    reference = invoice_units(latest.kwh)
    energy = figures.references.monthly.get((month, supply), Energy())
    billed = half_up_units(kwh_units(energy.total_mj))
    line = compared(supply, INVOICE, month, reference, billed, figures.references)
    line["invoice"] = {
        **entry_fields(latest, calendar),
        "superseded": [entry_fields(entry, calendar) for entry in earlier],
    }
    return line


def compared(
    supply: Supply,
    source: str,
    period: str,
    reference: int,
    billed: int,
    references: References,
) -> dict[str, Any]:
    """A line's figures from the printed reference and billed kWh (in units of 0.001 kWh)."""
    difference = billed - reference
    percent = percent_text(difference, reference)
    tolerance = references.tolerance_pct
    return {
        "supply": supply.value,
        "source": source,
        "period": period,
        "reference_kwh": kwh_text(reference),
        "billed_kwh": kwh_text(billed),
        "difference_kwh": kwh_text(difference),
        "difference_pct": percent,
        "flagged": difference != 0 if percent is None else abs(Decimal(percent)) > tolerance,
    }


def invoice_units(kwh: Decimal) -> int:
    """An invoice's kWh (at most 3 decimals) in printed units, exactly."""
    return int(kwh.scaleb(KWH_PLACES))


def entry_fields(entry: Invoice, calendar: Calendar) -> dict[str, Any]:
    return {
        "kwh": kwh_text(invoice_units(entry.kwh)),
        "entered_at": calendar.iso(entry.entered_ms),
        "note": entry.note,
    }
