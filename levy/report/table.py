"""The report as a table for people: what it is of, whether it is final, then the supplies with
their rate lines, the projection of a period not over yet, the reconciliation, the meters by
supply and the deemed intervals, in aligned columns. Every figure is the document's (see
`render.to_document`), so the table adds up as the JSON does."""

import textwrap
from decimal import Decimal
from typing import Any

WIDTH = 96
"""Where prose lines (the projection's basis) wrap."""

ROUNDING_NOTE = [
    "Rounding: kWh to 0.001 and tenge to the tiyn, half up; rate lines, meters and intervals",
    "are allocated so that they add up to their totals as printed (README: Report fields).",
]

FIGURES = ("metered_kwh", "deemed_kwh", "kwh", "fee_tenge")
FIGURE_HEADS = ["metered", "deemed", "kWh", "tenge"]
ENERGY = ("metered_kwh", "deemed_kwh", "kwh")
OVER = "OVER TOLERANCE"
WITHIN = "within tolerance"


def aligned(rows: list[list[str]], numeric: set[int]) -> list[str]:
    """Columns padded to their widest cell (characters, so Cyrillic ids align), numbers to the
    right, text to the left."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def header(document: dict[str, Any]) -> list[str]:
    start, coverage_start = document["period_start"], document["coverage_start"]
    from_start = "" if coverage_start == start else " (the ledger's accounting start)"
    quarter = "declaration_due" in document
    lines = [
        ["site", document["site"]],
        ["period", f"{document['period']} ({'quarter' if quarter else 'month'})"],
        ["zone", document["timezone"]],
        ["bounds", f"{start} .. {document['period_end']} (end exclusive)"],
        ["accounted", f"{coverage_start}{from_start} .. {document['coverage_end']}"],
        ["status", "closed" if document["closed"] else "open"],
    ]
    if quarter:
        due = f"declaration {document['declaration_due']}, payment {document['payment_due']}"
        lines.append(["due", due])
    return aligned(lines, set())


def supplies(document: dict[str, Any], whole: str = "site") -> list[str]:
    """The supplies with their rate lines, closed by the `whole` they add up to."""
    rows = [["supply", "rate from", "tenge/kWh", *FIGURE_HEADS]]
    for supply, section in document["by_supply"].items():
        for rate in section["rates"]:
            rows.append(
                [
                    supply,
                    rate["from"],
                    rate["tenge_per_kwh"],
                    "",
                    "",
                    rate["kwh"],
                    rate["fee_tenge"],
                ]
            )
        rows.append([supply, "total", "", *(section[key] for key in FIGURES)])
    rows.append(["TOTAL", whole, "", *(document["totals"][key] for key in FIGURES)])
    return aligned(rows, {2, 3, 4, 5, 6})


def projected(document: dict[str, Any]) -> list[str]:
    """The period to its end at the run rate, while it is not over."""
    projection = document["projection"]
    if projection is None:
        return []
    rows = [["supply", "kWh", "tenge"]]
    rows += [[s, p["kwh"], p["fee_tenge"]] for s, p in projection["by_supply"].items()]
    rows.append(["TOTAL", projection["kwh"], projection["fee_tenge"]])
    title = f"projected to {document['period_end']} (as of {projection['as_of']}):"
    basis = textwrap.wrap(f"basis: {projection['basis']}", WIDTH, subsequent_indent="  ")
    return ["", title, *aligned(rows, {1, 2}), *basis]


def reconciled(document: dict[str, Any]) -> list[str]:
    """The lines, each flagged in words; the main meters they come from; the invoices entered."""
    section = document["reconciliation"]
    if not section["lines"]:
        return ["", "reconciliation: no site_main meter and no invoice for this period"]
    title = (
        "reconciliation (difference = billed - reference, % of the reference; tolerance "
        f"{section['tolerance_pct']} %):"
    )
    rows = [
        ["supply", "source", "period", "reference", "billed", "difference", "%", "check"],
        *([*reconciled_cells(line), check(line)] for line in section["lines"]),
    ]
    return ["", title, *aligned(rows, {3, 4, 5, 6}), *main_meters(section), *invoices(section)]


def reconciled_cells(line: dict[str, Any]) -> list[str]:
    """One reconciliation line's figures as printed, its flag left to the printer."""
    pct = line["difference_pct"]
    return [
        line["supply"],
        line["source"],
        line["period"],
        line["reference_kwh"],
        line["billed_kwh"],
        line["difference_kwh"],
        "n/a" if pct is None else pct,
    ]


def check(line: dict[str, Any]) -> str:
    """The flag in words, and a reference that is partly deemed (at a main meter's rated power:
    the comparison is only as good as the meter's own data)."""
    words = OVER if line["flagged"] else WITHIN
    share = line.get("reference_deemed_pct")
    if share is not None and Decimal(share):
        words += f"; reference {share} % deemed"
    return words


def main_meters(section: dict[str, Any]) -> list[str]:
    if not section["main_meters"]:
        return []
    rows = [["main meter", "supply", *FIGURE_HEADS[:3]]]
    rows += [[m["meter"], m["supply"], *(m[key] for key in ENERGY)] for m in section["main_meters"]]
    return ["", "main meters (measured, not billed):", *aligned(rows, {2, 3, 4})]


def invoices(section: dict[str, Any]) -> list[str]:
    lines = [line for line in section["lines"] if "invoice" in line]
    if not lines:
        return []
    rows = [["invoice", "supply", "kWh", "entered", "entry", "note"]]
    for line in lines:
        entry = line["invoice"]
        rows.append(invoice_row(line, entry, "latest"))
        rows += [invoice_row(line, old, "superseded") for old in reversed(entry["superseded"])]
    return ["", "invoices entered (the latest counts):", *aligned(rows, {2})]


def invoice_row(line: dict[str, Any], entry: dict[str, Any], status: str) -> list[str]:
    note = entry["note"] or ""
    return [line["period"], line["supply"], entry["kwh"], entry["entered_at"], status, note]


def meters(document: dict[str, Any]) -> list[str]:
    """Grouped by supply, each group closed by its supply's figures: the meters add up to it."""
    rows = [["meter", "supply", "rated kW", *FIGURE_HEADS]]
    for supply, section in document["by_supply"].items():
        own = [m for m in document["meters"] if m["supply"] == supply]
        if not own:
            continue
        rows += [[m["meter"], supply, m["rated_kw"], *(m[key] for key in FIGURES)] for m in own]
        rows.append(["", f"{supply} total", "", *(section[key] for key in FIGURES)])
    if len(rows) == 1:
        return ["no meter was billed in this period"]
    return aligned(rows, {2, 3, 4, 5, 6})


def deemed(document: dict[str, Any]) -> list[str]:
    rows = [["meter", "supply", "from", "to", "reason", "kWh"]]
    rows += [
        [m["meter"], m["supply"], d["start"], d["end"], d["reason"], d["kwh"]]
        for m in document["meters"]
        for d in m["deemed_intervals"]
    ]
    if len(rows) == 1:
        return []
    title = "deemed at rated power (contiguous intervals of one reason merged):"
    return ["", title, *aligned(rows, {5})]


def render_table(document: dict[str, Any]) -> str:
    title = [f"Levy report {document['period']} for site {document['site']}"]
    if document["provisional"]:
        title.append("PROVISIONAL: " + "; ".join(document["provisional"]))
    parts = [
        *title,
        "",
        *header(document),
        "",
        *supplies(document),
        *projected(document),
        *reconciled(document),
        "",
        *meters(document),
        *deemed(document),
        "",
        *ROUNDING_NOTE,
    ]
    return "\n".join(parts) + "\n"


CONSOLIDATION_NOTE = [
    "Consolidated: the sums of the sites' figures as printed above, per rate line (matched by",
    "supply, rate and effective date), per supply and in all (README: Several sites).",
]


def site_rows(report: dict[str, Any]) -> list[str]:
    """Each site's totals, closed by the consolidated total they add up to."""
    rows = [["site", "zone", "status", *FIGURE_HEADS]]
    rows += [
        [
            document["site"],
            document["timezone"],
            "closed" if document["closed"] else "open",
            *(document["totals"][key] for key in FIGURES),
        ]
        for document in report["sites"]
    ]
    rows.append(["TOTAL", "", "", *(report["consolidated"]["totals"][key] for key in FIGURES)])
    return aligned(rows, {3, 4, 5, 6})


def consolidated_table(report: dict[str, Any]) -> str:
    whole = report["consolidated"]
    sites = len(whole["sites"])
    title = [f"Consolidated levy report {report['period']} over {sites} sites"]
    title += [
        f"PROVISIONAL: {document['site']}: " + "; ".join(document["provisional"])
        for document in report["sites"]
        if document["provisional"]
    ]
    quarter = "due" in whole
    head = [
        ["period", f"{report['period']} ({'quarter' if quarter else 'month'})"],
        ["status", "closed" if whole["closed"] else "open"],
    ]
    if quarter:
        due = whole["due"]
        head.append(["due", f"declaration {due['declaration']}, payment {due['payment']}"])
    blocks = [title, aligned(head, set()), site_rows(report), supplies(whole, "all sites")]
    return "\n\n".join("\n".join(block) for block in [*blocks, CONSOLIDATION_NOTE]) + "\n"


def render_sites_table(report: dict[str, Any]) -> str:
    """Each site's report as it reads alone, then the consolidated block."""
    return "\n".join([*(render_table(d) for d in report["sites"]), consolidated_table(report)])
