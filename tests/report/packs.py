"""What a filing pack must show, drawn from the report's JSON document: the rows of its tables as
the pack prints them, so a test can look for each one in the HTML's tables or the PDF's text."""

import re
from typing import Any

FIGURES = ("metered_kwh", "deemed_kwh", "kwh", "fee_tenge")


def totals_rows(document: dict[str, Any]) -> list[list[str]]:
    rows = []
    for supply, section in document["by_supply"].items():
        rows += [
            [supply, rate["from"], rate["tenge_per_kwh"], "", "", rate["kwh"], rate["fee_tenge"]]
            for rate in section["rates"]
        ]
        rows.append([supply, "total", "", *(section[key] for key in FIGURES)])
    rows.append(["TOTAL", "site", "", *(document["totals"][key] for key in FIGURES)])
    return rows


def meter_rows(document: dict[str, Any]) -> list[list[str]]:
    rows = []
    for supply, section in document["by_supply"].items():
        own = [m for m in document["meters"] if m["supply"] == supply]
        if own:
            rows += [[m["meter"], supply, m["rated_kw"], *(m[key] for key in FIGURES)] for m in own]
            rows.append(["", f"{supply} total", "", *(section[key] for key in FIGURES)])
    rows.append(["TOTAL", "site", "", *(document["totals"][key] for key in FIGURES)])
    return rows


def episodes(document: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(meter, reason, start, end, kWh) of every deemed episode."""
    return [
        (m["meter"], d["reason"], d["start"], d["end"], d["kwh"])
        for m in document["meters"]
        for d in m["deemed_intervals"]
    ]


def filled(row: list[str]) -> list[str]:
    """A row as `pdftotext -layout` gives it back: its empty cells leave no trace."""
    return [cell for cell in row if cell]


def text_rows(text: str) -> list[list[str]]:
    """Each line of `pdftotext -layout` output split into cells (two spaces or more apart)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def episode_row(rows: list[list[str]], episode: tuple[str, str, str, str, str]) -> list[str]:
    """The one printed row of an episode: its meter, reason (code, then words), times and kWh."""
    meter, reason, start, end, kwh = episode
    found = [
        row
        for row in rows
        if len(row) == 7 and row[0] == meter and row[3] == start and row[4] == end
    ]
    assert len(found) == 1, (episode, found)
    row = found[0]
    assert row[2].split(" (")[0] == reason, row  # its words follow, wrapped or not
    assert row[6] == kwh, row
    return row
