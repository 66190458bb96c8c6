"""The report as CSV for a spreadsheet: a header block of `field,value` rows (what the report is
of, whether it is final, the due dates of a quarter, the reconciliation's tolerance, the
projection's basis), a blank row, then one table whose `section` column says what each row is
(`rate`, `supply`, `site`, `projected`, `main_meter`, `reconciliation`, `superseded`, `meter`,
`deemed`), one figure per cell.

UTF-8 with a byte order mark: Excel reads a CSV without one in the machine's ANSI code page and
garbles Cyrillic meter ids; LibreOffice, pandas and Python's `utf-8-sig` take the mark in their
stride. Decimal point; figures are plain numbers. Ids are as the site wrote them (the csv module
quotes commas, quotes and line breaks), except that a cell a spreadsheet would run as a formula
(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with a single quote
(OWASP, CSV injection). Only text cells are touched: a figure is a plain number (a difference
may be negative)."""

import csv
import io
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEAD_FIELDS = [
    "site",
    "period",
    "timezone",
    "period_start",
    "period_end",
    "coverage_start",
    "coverage_end",
    "closed",
    "provisional",
    "declaration_due",
    "payment_due",
]
PROJECTION_FIELDS = ["as_of", "basis"]
"""Printed as `projection_as_of`, `projection_basis` while there is a projection."""
COLUMNS = [
    "section",
    "supply",
    "meter",
    "rated_kw",
    "from",
    "to",
    "reason",
    "tenge_per_kwh",
    "metered_kwh",
    "deemed_kwh",
    "kwh",
    "fee_tenge",
    "source",
    "period",
    "reference_kwh",
    "billed_kwh",
    "difference_kwh",
    "difference_pct",
    "reference_deemed_pct",
    "check",
    "entered_at",
    "note",
]
NUMBERS = {
    "rated_kw",
    "tenge_per_kwh",
    "metered_kwh",
    "deemed_kwh",
    "kwh",
    "fee_tenge",
    "reference_kwh",
    "billed_kwh",
    "difference_kwh",
    "difference_pct",
    "reference_deemed_pct",
}
FIGURES = ("metered_kwh", "deemed_kwh", "kwh", "fee_tenge")
OVER = "OVER TOLERANCE"
WITHIN = "within tolerance"


def neutral(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def head_value(document: dict[str, Any], field: str) -> str:
    value = document[field]
    if field == "closed":
        return "true" if value else "false"
    if field == "provisional":
        return "; ".join(value) if value else "no"
    return neutral(value)


def head_rows(document: dict[str, Any]) -> list[list[str]]:
    rows = [[field, head_value(document, field)] for field in HEAD_FIELDS if field in document]
    rows.append(["tolerance_pct", document["reconciliation"]["tolerance_pct"]])
    projection = document["projection"]
    if projection is not None:
        rows += [[f"projection_{field}", neutral(projection[field])] for field in PROJECTION_FIELDS]
    return rows


def projected_rows(document: dict[str, Any]) -> list[dict[str, str]]:
    projection = document["projection"]
    if projection is None:
        return []
    span = {"section": "projected", "from": projection["as_of"], "to": document["period_end"]}
    sections = {**projection["by_supply"], "all": projection}
    return [
        {**span, "supply": supply, "kwh": figures["kwh"], "fee_tenge": figures["fee_tenge"]}
        for supply, figures in sections.items()
    ]


def reconciliation_rows(document: dict[str, Any]) -> list[dict[str, str]]:
    """The main meters, then each line with its flag in words, an invoice line followed by the
    entries it superseded."""
    section = document["reconciliation"]
    rows: list[dict[str, str]] = [
        {"section": "main_meter", **meter} for meter in section["main_meters"]
    ]
    for line in section["lines"]:
        row = {key: value or "" for key, value in line.items() if key in COLUMNS}
        row["check"] = OVER if line["flagged"] else WITHIN
        invoice = line.get("invoice")
        if invoice is not None:
            row.update(entered_at=invoice["entered_at"], note=invoice["note"] or "")
        rows.append({"section": "reconciliation", **row})
        for old in invoice["superseded"] if invoice is not None else []:
            rows.append(
                {
                    "section": "superseded",
                    **{key: line[key] for key in ("supply", "source", "period")},
                    "reference_kwh": old["kwh"],
                    "entered_at": old["entered_at"],
                    "note": old["note"] or "",
                }
            )
    return rows


def table_rows(document: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for supply, section in document["by_supply"].items():
        rows += [{"section": "rate", "supply": supply, **rate} for rate in section["rates"]]
        rows.append({"section": "supply", "supply": supply, **{k: section[k] for k in FIGURES}})
    rows.append({"section": "site", "supply": "all", **document["totals"]})
    rows += projected_rows(document)
    rows += reconciliation_rows(document)
    for m in document["meters"]:
        rows.append({"section": "meter", **m})
    for m in document["meters"]:
        rows += [
            {
                "section": "deemed",
                "supply": m["supply"],
                "meter": m["meter"],
                "rated_kw": m["rated_kw"],
                "from": d["start"],
                "to": d["end"],
                "reason": d["reason"],
                "deemed_kwh": d["kwh"],
                "kwh": d["kwh"],
            }
            for d in m["deemed_intervals"]
        ]
    return [
        {
            column: row.get(column, "") if column in NUMBERS else neutral(row.get(column, ""))
            for column in COLUMNS
        }
        for row in rows
    ]


def render_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["field", "value"])
    writer.writerows(head_rows(document))
    writer.writerow([])
    table = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    table.writeheader()
    table.writerows(table_rows(document))
    return out.getvalue()


SITE_SCOPE = "site"
CONSOLIDATED_SCOPE = "consolidated"
SCOPE_COLUMNS = ["scope", "site"]


def consolidated_head(report: dict[str, Any]) -> list[list[str]]:
    whole = report["consolidated"]
    fields: dict[str, Any] = {
        "period": report["period"],
        "closed": whole["closed"],
        "provisional": whole["provisional"],
    }
    if "due" in whole:
        fields["declaration_due"] = whole["due"]["declaration"]
        fields["payment_due"] = whole["due"]["payment"]
    return [[CONSOLIDATED_SCOPE, "", name, head_value(fields, name)] for name in fields]


def consolidated_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    whole = report["consolidated"]
    rows: list[dict[str, str]] = []
    for supply, section in whole["by_supply"].items():
        rows += [{"section": "rate", "supply": supply, **rate} for rate in section["rates"]]
        rows.append({"section": "supply", "supply": supply, **{k: section[k] for k in FIGURES}})
    rows.append({"section": "total", "supply": "all", **whole["totals"]})
    return [
        {"scope": CONSOLIDATED_SCOPE, "site": "", **{c: row.get(c, "") for c in COLUMNS}}
        for row in rows
    ]


def render_sites_csv(report: dict[str, Any]) -> str:
    """Each site's CSV with `scope` and `site` columns in front, so a spreadsheet filters one
    site back out, then the consolidated rows (scope `consolidated`, no site)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*SCOPE_COLUMNS, "field", "value"])
    for document in report["sites"]:
        site = neutral(document["site"])
        writer.writerows([SITE_SCOPE, site, *row] for row in head_rows(document))
    writer.writerows(consolidated_head(report))
    writer.writerow([])
    table = csv.DictWriter(out, [*SCOPE_COLUMNS, *COLUMNS], lineterminator="\n")
    table.writeheader()
    for document in report["sites"]:
        site = neutral(document["site"])
        table.writerows({"scope": SITE_SCOPE, "site": site, **row} for row in table_rows(document))
    table.writerows(consolidated_rows(report))
    return out.getvalue()
