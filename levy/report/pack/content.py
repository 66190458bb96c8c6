"""The pack laid out once, from the document: the cover, the meters, the deemed episodes, the
days, the timeline of episodes and the reconciliation, as sections of blocks that the HTML and
the PDF draw alike. No figure is computed here: each is the document's text as printed, or a day
as `daily.py` prints it; sections other parts of the report add (the evidence, the projection,
the reconciliation) are shown when the document has them."""

import hashlib
from datetime import datetime
from functools import partial
from typing import Any

from levy.core.model import Supply
from levy.report.pack.blocks import Block, Chart, Facts, Note, Row, Section, Table
from levy.report.pack.charts import (
    METERS_PER_CHART,
    Episode,
    daily_chart,
    shortest_drawn,
    timeline_chart,
)
from levy.report.pack.model import Pack
from levy.report.rounding import KWH_PLACES, shown
from levy.report.table import reconciled_cells

FIGURES = ("metered_kwh", "deemed_kwh", "kwh", "fee_tenge")
FIGURE_HEADS = ["metered kWh", "deemed kWh", "kWh", "tenge"]
FIGURE_WIDTHS = [17, 17, 17, 17]
FIGURE_COLUMNS = frozenset({3, 4, 5, 6})

REASONS = {
    "no_baseline": (
        "no reading yet",
        "no valid reading to start from: the meter was not heard from since its accounting "
        "start or commissioning",
    ),
    "meter_fault": (
        "meter fault",
        "the meter reported a fault: deemed from the fault to its next valid reading",
    ),
    "no_data": (
        "readings stopped",
        "no valid reading for longer than the staleness limit ([rules] stale_after_s)",
    ),
    "register_decrease": (
        "register went back",
        "the register read less than before (a reset, a replacement or a rollover)",
    ),
    "implausible": (
        "implausible power",
        "average power above the rated power times [rules] implausible_factor",
    ),
}

ROUNDING = (
    "Rounding: kWh to 0.001 and tenge to the tiyn, half up; rate lines, meters, episodes and "
    "days are allocated so that they add up to their totals as printed. Every figure is the "
    "one `levy-monitor report --format json` prints for this period."
)
EXCLUSIVE = "(end exclusive)"
FINGERPRINT_DIGITS = 32
PROJECTED = frozenset({1, 2})
RECONCILED_HEADS = [
    "supply",
    "against",
    "period",
    "reference kWh",
    "billed kWh",
    "difference kWh",
    "%",
    "flag",
]


def sections(pack: Pack) -> list[Section]:
    document = pack.document
    parts = [
        cover(pack),
        meters(document),
        episodes(document),
        days(pack),
        timeline(document),
    ]
    if document.get("reconciliation") is not None:
        parts.append(reconciliation(document["reconciliation"]))
    return parts


def title(document: dict[str, Any]) -> str:
    return f"Levy filing pack {document['period']}: site {document['site']}"


def cover(pack: Pack) -> Section:
    document = pack.document
    quarter = "declaration_due" in document
    facts = [
        ("Site", document["site"]),
        ("Period", f"{document['period']} ({'quarter' if quarter else 'month'})"),
        ("Time zone", document["timezone"]),
        ("Period bounds", f"{document['period_start']} .. {document['period_end']} {EXCLUSIVE}"),
        ("Accounted", f"{document['coverage_start']} .. {document['coverage_end']}"),
        ("Status", "CLOSED" if document["closed"] else "OPEN"),
    ]
    if quarter:
        facts += [
            ("Declaration due", document["declaration_due"]),
            ("Payment due", document["payment_due"]),
        ]
    facts.append(("Pack made", f"{pack.made_at} (the ledger clock)"))
    blocks: list[Block] = [
        Note(f"PROVISIONAL: {reason}", strong=True) for reason in document["provisional"]
    ]
    blocks += [Facts(facts), totals(document)]
    if document.get("projection") is not None:
        blocks += projection(document["projection"])
    if document.get("evidence") is not None:
        blocks += evidence(document["evidence"])
    blocks.append(Note(ROUNDING))
    return Section(title(document), blocks, new_page=False)


def totals(document: dict[str, Any]) -> Table:
    """By supply and by rate, closed by the site's total, as the declaration shows them."""
    rows = []
    for supply, section in document["by_supply"].items():
        rows += [
            Row([supply, rate["from"], rate["tenge_per_kwh"], "", "", *rate_figures(rate)])
            for rate in section["rates"]
        ]
        rows.append(Row([supply, "total", "", *(section[k] for k in FIGURES)], total=True))
    rows.append(Row(["TOTAL", "site", "", *(document["totals"][k] for k in FIGURES)], total=True))
    return Table(
        ["supply", "rate from", "tenge/kWh", *FIGURE_HEADS],
        rows,
        [14, 36, 15, *FIGURE_WIDTHS],
        frozenset({2}) | FIGURE_COLUMNS,
        caption="Totals by supply and rate",
    )


def rate_figures(rate: dict[str, str]) -> list[str]:
    return [rate["kwh"], rate["fee_tenge"]]


def projection(projected: dict[str, Any]) -> list[Block]:
    rows = [
        Row([supply, figures["kwh"], figures["fee_tenge"]])
        for supply, figures in projected["by_supply"].items()
    ]
    rows.append(Row(["TOTAL", projected["kwh"], projected["fee_tenge"]], total=True))
    return [
        Note("Projection to the period's end (the operator's estimate, not a filed figure)"),
        Facts([("As of", projected["as_of"]), ("Basis", projected["basis"])]),
        Table(["supply", "projected kWh", "projected tenge"], rows, [30, 30, 30], PROJECTED),
    ]


def evidence(found: dict[str, Any]) -> list[Block]:
    head = found.get("chain_head")
    lines = [("Chain head", "none: nothing recorded yet")]
    if head is not None:
        lines = [
            ("Chain head", f"block {head['block']} at {head['at']}"),
            ("Head hash", head["hash"]),
        ]
    blocks: list[Block] = [
        Note("Evidence (levy-monitor verify re-walks the chain and checks these)"),
        Facts(lines, mono=frozenset({"Head hash"})),
    ]
    closed = found.get("closed")
    records = closed if isinstance(closed, list) else [] if closed is None else [closed]
    if not records:
        blocks.append(Note("No close record: the period is not closed."))
    blocks += [close_record(record) for record in records]
    return blocks


def close_record(record: dict[str, Any]) -> Facts:
    of = f" of {record['period']}" if "period" in record else ""
    head = record.get("chain_head")
    lines = [
        (
            f"Close record{of}",
            "chain head: none (closed before the ledger kept a chain)"
            if head is None
            else f"chain head block {head['block']}",
        )
    ]
    if head is not None:
        lines.append(("Closed head hash", head["hash"]))
    lines.append(("Period digest", record.get("period_digest") or "none"))
    lines.append(("Signature", record.get("signature") or "not signed"))
    key = record.get("public_key")
    if key:
        lines += [("Public key", key), ("Key fingerprint", fingerprint(key))]
    mono = {"Closed head hash", "Period digest", "Signature", "Public key", "Key fingerprint"}
    return Facts(lines, mono=frozenset(mono))


def fingerprint(public_key: str) -> str:
    """SHA-256 of the raw key, its first digits in groups of four: short enough to read aloud
    and compare with the key the site published."""
    try:
        raw = bytes.fromhex(public_key)
    except ValueError:
        return "none (the key is not hex)"
    digits = hashlib.sha256(raw).hexdigest()[:FINGERPRINT_DIGITS]
    return "SHA-256 " + " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def meters(document: dict[str, Any]) -> Section:
    """Grouped by supply, each group closed by its supply's figures: the meters add up to it."""
    rows = []
    for supply, section in document["by_supply"].items():
        own = [m for m in document["meters"] if m["supply"] == supply]
        if own:
            rows += [
                Row([m["meter"], supply, m["rated_kw"], *(m[k] for k in FIGURES)]) for m in own
            ]
            rows.append(Row(["", f"{supply} total", "", *(section[k] for k in FIGURES)], True))
    if not rows:
        return Section("Meters", [Note("No meter was billed in this period.")])
    rows.append(Row(["TOTAL", "site", "", *(document["totals"][k] for k in FIGURES)], True))
    table = Table(
        ["meter", "supply", "rated kW", *FIGURE_HEADS],
        rows,
        [34, 16, 12, *FIGURE_WIDTHS],
        frozenset({2}) | FIGURE_COLUMNS,
    )
    return Section("Meters", [table])


def reason_text(code: str) -> str:
    words = REASONS.get(code)
    return f"{code} ({words[0]})" if words else code


def duration(start: str, end: str) -> str:
    """Like `1 d 2 h 10 min`, from the two times as printed."""
    seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    parts = []
    for size, name in ((86_400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts) or "0 s"


def episodes(document: dict[str, Any]) -> Section:
    rows = [
        Row(
            [
                m["meter"],
                m["supply"],
                reason_text(d["reason"]),
                d["start"],
                d["end"],
                duration(d["start"], d["end"]),
                d["kwh"],
            ]
        )
        for m in document["meters"]
        for d in m["deemed_intervals"]
    ]
    name = "Deemed episodes"
    if not rows:
        return Section(name, [Note("No interval was deemed in this period.")])
    rows.append(Row(["TOTAL", "", "", "", "", "", document["totals"]["deemed_kwh"]], True))
    intro = (
        f"Every interval deemed at the meter's rated power ({len(rows) - 1} episodes, contiguous "
        "intervals of one reason merged), by meter and time; each meter's episodes add up to "
        "its deemed kWh."
    )
    table = Table(
        ["meter", "supply", "reason", "from", "to", "duration", "kWh"],
        rows,
        [20, 13, 30, 42, 42, 19, 16],
        frozenset({6}),
        whole=frozenset({3, 4}),
    )
    legend = Table(
        ["reason", "in words", "why the interval is deemed"],
        [Row([code, short, long]) for code, (short, long) in REASONS.items()],
        [26, 26, 96],
        caption="Reasons",
    )
    return Section(name, [Note(intro), table, legend])


def kwh(units: int) -> str:
    return str(shown(units, KWH_PLACES))


def days(pack: Pack) -> Section:
    document = pack.document
    grid, off_grid = pack.days[Supply.GRID], pack.days[Supply.OFF_GRID]
    rows = [
        Row(
            [
                g.day.isoformat(),
                kwh(g.metered),
                kwh(g.deemed),
                kwh(o.metered),
                kwh(o.deemed),
                kwh(g.metered + g.deemed + o.metered + o.deemed),
            ]
        )
        for g, o in zip(grid, off_grid, strict=True)
    ]
    by_supply = document["by_supply"]
    rows.append(
        Row(
            [
                "TOTAL",
                by_supply["grid"]["metered_kwh"],
                by_supply["grid"]["deemed_kwh"],
                by_supply["off_grid"]["metered_kwh"],
                by_supply["off_grid"]["deemed_kwh"],
                document["totals"]["kwh"],
            ],
            True,
        )
    )
    chart = Chart(
        partial(daily_chart, pack.days),
        "kWh per local day by supply: metered (grey) and deemed (hatched) stacked.",
    )
    note = Note(
        "Days are local days in the site zone. Each supply's days are allocated from its printed "
        "metered and deemed kWh, so the columns add up to the totals on the cover."
    )
    table = Table(
        ["day", "grid metered", "grid deemed", "off_grid metered", "off_grid deemed", "kWh"],
        rows,
        [24, 24, 24, 24, 24, 24],
        frozenset({1, 2, 3, 4, 5}),
    )
    return Section("Daily kWh by supply", [chart, note, table])


def timeline(document: dict[str, Any]) -> Section:
    """One row per meter with a deemed episode, in charts of a page each."""
    by_meter: dict[str, list[Episode]] = {}
    for m in document["meters"]:
        for d in m["deemed_intervals"]:
            start, end = datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"])
            by_meter.setdefault(m["meter"], []).append(Episode(start, end, d["reason"]))
    name = "Timeline of deemed episodes"
    if not by_meter:
        return Section(name, [Note("No interval was deemed in this period.")])
    start = datetime.fromisoformat(document["period_start"])
    end = datetime.fromisoformat(document["period_end"])
    rows = list(by_meter.items())
    chunks = [rows[i : i + METERS_PER_CHART] for i in range(0, len(rows), METERS_PER_CHART)]
    note = Note(
        f"One row per meter with a deemed episode, over the period in the site zone; an episode "
        f"shorter than {shortest_drawn(start, end)} is drawn that wide so that it shows."
    )
    charts: list[Block] = [
        Chart(
            partial(timeline_chart, chunk, start, end, document["timezone"]),
            f"Deemed episodes by reason, meters {i * METERS_PER_CHART + 1} to "
            f"{i * METERS_PER_CHART + len(chunk)} of {len(rows)}.",
        )
        for i, chunk in enumerate(chunks)
    ]
    return Section(name, [note, *charts])


def reconciliation(found: dict[str, Any]) -> Section:
    name = "Reconciliation"
    blocks: list[Block] = [
        Note(
            "The billed kWh (metered plus deemed) set against the site's main meters and the "
            "utility's invoices; not a filed figure. A line is flagged when its difference is "
            "beyond the tolerance."
        ),
        Facts([("Tolerance", f"{found['tolerance_pct']}%")]),
    ]
    mains = found.get("main_meters") or []
    if mains:
        blocks.append(
            Table(
                ["main meter", "supply", "metered kWh", "deemed kWh", "kWh"],
                [
                    Row([m["meter"], m["supply"], m["metered_kwh"], m["deemed_kwh"], m["kwh"]])
                    for m in mains
                ],
                [40, 20, 25, 25, 25],
                frozenset({2, 3, 4}),
                caption="Main meters (measured, not billed)",
            )
        )
    lines = found.get("lines") or []
    if not lines:
        blocks.append(Note("No main meter and no invoice for this period: nothing to reconcile."))
        return Section(name, blocks)
    blocks.append(
        Table(
            RECONCILED_HEADS,
            [
                Row([*reconciled_cells(line), "FLAGGED" if line["flagged"] else "ok"])
                for line in lines
            ],
            [15, 17, 15, 22, 22, 22, 13, 16],
            frozenset({3, 4, 5, 6}),
            caption="Lines",
        )
    )
    invoices = [line for line in lines if line.get("invoice")]
    if invoices:
        blocks.append(
            Table(
                ["period", "supply", "invoice kWh", "entered at", "note", "superseded"],
                [invoice_row(line) for line in invoices],
                [14, 13, 20, 42, 30, 63],
                frozenset({2}),
                caption="Invoices entered",
            )
        )
    return Section(name, blocks)


def invoice_row(line: dict[str, Any]) -> Row:
    invoice = line["invoice"]
    superseded = invoice.get("superseded") or []
    earlier = ", ".join(f"{entry.get('kwh')} ({entry.get('entered_at')})" for entry in superseded)
    return Row(
        [
            line["period"],
            line["supply"],
            str(invoice.get("kwh", "")),
            str(invoice.get("entered_at", "")),
            str(invoice.get("note") or ""),
            earlier or "none",
        ]
    )
