"""The report's three faces: JSON (the contract), CSV (for spreadsheets), a table (for people).

All three print the same figures: `to_document` rounds them once, by the rule in `rounding.py`
(wholes half up, parts allocated so that they add up to their wholes as printed), and the CSV
and the table are drawn from that document alone."""

import json
from decimal import Decimal
from typing import Any

from levy.core.calendar import Calendar
from levy.core.model import Supply
from levy.ledger.store import ClosedPeriod
from levy.report.figures import MeterFigures, MeterKey, PeriodFigures, RateLine, due_dates
from levy.report.printed import Printed, kwh_text, shared_energy, whole_energy
from levy.report.projection import projection
from levy.report.reconciliation import reconciliation
from levy.report.rounding import (
    TENGE_PLACES,
    allocate,
    half_up_units,
    kwh_units,
    shown,
    tiyn_units,
)

NOT_CLOSED = "not closed"


def supply_section(
    figures: PeriodFigures,
    supply: Supply,
    meters: list[MeterFigures],
    calendar: Calendar,
) -> tuple[Printed, list[dict[str, str]], list[dict[str, Any]]]:
    """A supply's figures, its rate lines and its meters' rows, rounded once: the supply's kWh
    half up, its rate lines' fees half up and summed; the shares of lines, columns and meters
    allocated from them."""
    (metered, deemed), energies = shared_energy(
        figures.supply_energy(supply), [m.energy for m in meters]
    )
    kwh = metered + deemed
    lines = figures.lines[supply]
    line_kwh = allocate(kwh, [kwh_units(line.energy.total_mj) for line in lines])
    line_fee = line_fees(lines)
    fee = sum(line_fee)
    rates = [
        {
            "from": calendar.iso(line.from_ms),
            "tenge_per_kwh": str(line.per_kwh),
            "kwh": kwh_text(units),
            "fee_tenge": str(shown(fee_units, TENGE_PLACES)),
        }
        for line, units, fee_units in zip(lines, line_kwh, line_fee, strict=True)
    ]
    fees = allocate(fee, [tiyn_units(m.fee) for m in meters])
    rows = [
        meter_row(m, Printed(m_metered, m_deemed, m_fee), calendar)
        for m, (m_metered, m_deemed), m_fee in zip(meters, energies, fees, strict=True)
    ]
    return Printed(metered, deemed, fee), rates, rows


def line_fees(lines: list[RateLine]) -> list[int]:
    """Each rate line's fee in tiyn, half up from its exact kWh times its rate: a supply's fee is
    their sum."""
    return [half_up_units(tiyn_units(line.fee)) for line in lines]


def supply_printed(figures: PeriodFigures, supply: Supply) -> Printed:
    """A supply's own figures as `supply_section` prints them, without its meters' shares."""
    metered, deemed = whole_energy(figures.supply_energy(supply))
    return Printed(metered, deemed, sum(line_fees(figures.lines[supply])))


def meter_row(m: MeterFigures, printed: Printed, calendar: Calendar) -> dict[str, Any]:
    exact = [kwh_units(span.energy_mj) for span in m.deemed]
    # the intervals are the meter's deemed rows, so they sum to its deemed energy; were they not,
    # each would be rounded alone and the difference would show
    if sum(exact) == kwh_units(m.energy.deemed_mj):
        spans = allocate(printed.deemed, exact)
    else:
        spans = [half_up_units(value) for value in exact]
    return {
        "meter": m.meter,
        "supply": m.supply.value,
        "rated_kw": format(Decimal(m.rated_w).scaleb(-3).normalize(), "f"),
        **printed.fields(),
        "deemed_intervals": [
            {
                "start": calendar.iso(span.start_ms),
                "end": calendar.iso(span.end_ms),
                "reason": span.reason.value,
                "kwh": kwh_text(units),
            }
            for span, units in zip(m.deemed, spans, strict=True)
        ],
    }


def provisional(figures: PeriodFigures, calendar: Calendar) -> list[str]:
    """Why the figures are not final yet: the period is not closed, or not every meter is
    accounted to its end. Empty once they are final."""
    reasons = [] if figures.closed else [NOT_CLOSED]
    if figures.coverage_end_ms < figures.end_ms:
        reasons.append(
            f"accounted to {calendar.iso(figures.coverage_end_ms)} "
            f"of {calendar.iso(figures.end_ms)}"
        )
    return reasons


def to_document(figures: PeriodFigures, calendar: Calendar) -> dict[str, Any]:
    meters = sorted(figures.meters.values(), key=lambda m: (m.meter, m.supply, m.rated_w))
    by_supply: dict[str, dict[str, Any]] = {}
    sums: dict[Supply, Printed] = {}
    rows: dict[MeterKey, dict[str, Any]] = {}
    for supply in Supply:
        own = [m for m in meters if m.supply == supply]
        printed, rates, own_rows = supply_section(figures, supply, own, calendar)
        by_supply[supply.value] = {**printed.fields(), "rates": rates}
        sums[supply] = printed
        rows.update(
            ((m.meter, m.supply, m.rated_w), row) for m, row in zip(own, own_rows, strict=True)
        )
    site = site_printed(sums)
    document: dict[str, Any] = {
        "site": figures.site,
        "period": figures.period.label,
        "timezone": figures.timezone,
        "period_start": calendar.iso(figures.start_ms),
        "period_end": calendar.iso(figures.end_ms),
        "coverage_start": calendar.iso(figures.coverage_start_ms),
        "coverage_end": calendar.iso(figures.coverage_end_ms),
        "closed": figures.closed,
        "provisional": provisional(figures, calendar),
    }
    document.update(due_fields(figures))
    document["totals"] = site.fields()
    document["by_supply"] = by_supply
    document["meters"] = [rows[(m.meter, m.supply, m.rated_w)] for m in meters]
    document["reconciliation"] = reconciliation(figures, sums, calendar)
    document["projection"] = projection(figures, sums, calendar)
    document["evidence"] = evidence_fields(figures, calendar)
    return document


def liability_document(figures: PeriodFigures, calendar: Calendar) -> dict[str, Any]:
    """What the live liabilities read of `to_document`, printed by the same functions but
    without the meters' rows and the reconciliation, which cost a Fraction per meter and
    which no liability shows: `closed`, the due dates, `totals`, `by_supply` (without its
    rate lines) and `projection`. Works on figures with or without their meters."""
    sums = {supply: supply_printed(figures, supply) for supply in Supply}
    return {
        "closed": figures.closed,
        **due_fields(figures),
        "totals": site_printed(sums).fields(),
        "by_supply": {supply.value: printed.fields() for supply, printed in sums.items()},
        "projection": projection(figures, sums, calendar),
    }


def site_printed(sums: dict[Supply, Printed]) -> Printed:
    """The site's figures: the sums of its supplies' as printed."""
    return Printed(
        sum(p.metered for p in sums.values()),
        sum(p.deemed for p in sums.values()),
        sum(p.fee for p in sums.values()),
    )


def due_fields(figures: PeriodFigures) -> dict[str, str]:
    """A quarter's due dates (a month has none)."""
    if not figures.period.is_quarter:
        return {}
    declaration, payment = due_dates(figures.period)
    return {"declaration_due": declaration.isoformat(), "payment_due": payment.isoformat()}


def evidence_fields(figures: PeriodFigures, calendar: Calendar) -> dict[str, Any]:
    """The chain head the figures were read at, and what closed them: for a month its close
    record (null while open), for a quarter the close records of its closed months, each with
    its `period`."""
    head, closes = figures.evidence.head, figures.evidence.closes
    closed: Any = close_fields(closes[0]) if closes else None
    if figures.period.is_quarter:
        closed = [{"period": close.period, **close_fields(close)} for close in closes]
    return {
        "chain_head": None
        if head is None
        else {"block": head.number, "hash": head.hash, "at": calendar.iso(head.clock_ms)},
        "closed": closed,
    }


def close_fields(close: ClosedPeriod) -> dict[str, Any]:
    return {
        "chain_head": None
        if close.chain_block is None
        else {"block": close.chain_block, "hash": close.chain_hash},
        "period_digest": close.period_digest,
        "signature": close.signature,
        "public_key": close.public_key,
    }


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
