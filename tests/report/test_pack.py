"""The filing pack, `report --format pdf|html`, as a user makes it and an inspector reads it: the
PDF's pages rendered to images and its text read back, the HTML opened in headless Chromium;
every figure on them is the JSON report's, every deemed episode is there, ids arrive as the
site wrote them, and the same ledger makes the same bytes (refusals: test_pack_refusals.py).

The October demo (config/october-demo.*) is replayed to November's first instant; its figures
are those of tests/app/test_scenario.py, worked out by hand there."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.app.scenario import write_site
from tests.report.packs import (
    episode_row,
    episodes,
    filled,
    meter_rows,
    text_rows,
    totals_rows,
)
from tests.report.pages import dom, inked, pdf_pages, pdf_text, read_tables, screenshot
from tests.report.process import DEMO_FEED, SILENT_LINE, ok

NOVEMBER = "2026-11-01T00:00:00+05:00"
MONTH = ["report", "-c", "site.toml", "--period", "2026-10"]
QUARTER = ["report", "-c", "site.toml", "--period", "2026-Q4"]
DURATIONS = {  # the demo's episodes, by start: rig-1's fault, its silence, rig-2's two, rig-3, rig-4
    "2026-10-10T12:00:00+05:00": "10 min",
    "2026-10-15T00:00:00+05:00": "2 h",
    "2026-10-20T07:50:00+05:00": "10 min",
    "2026-10-25T15:50:00+05:00": "10 min",
    "2026-10-05T00:00:00+05:00": "6 h",
    "2026-10-01T00:00:00+05:00": "31 d",
}


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> Path:
    """The demo site accounted to November's first instant; tests only read it."""
    folder = tmp_path_factory.mktemp("pack")
    write_site(folder)
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", NOVEMBER)
    return folder


def document_of(folder: Path, *report: str) -> dict:
    return json.loads(ok(folder, *report, "--format", "json").out)


def made_pdf(folder: Path, out: Path, *report: str) -> str:
    """The pack made as a user makes it, its text as an inspector's tools read it."""
    done = ok(folder, *report, "--format", "pdf", "--output", str(out))
    assert done.stdout == b"" and done.err == ""
    return pdf_text(out)


def assert_pages_drawn(pdf: Path, folder: Path) -> int:
    pages = pdf_pages(pdf, folder)
    assert pages, "no page rendered"
    for page in pages:
        assert inked(page) > 0.005, page  # not blank: text, rules, charts
    return len(pages)


def assert_figures_as_json(text: str, document: dict) -> None:
    """Every row of the totals and the meters, and every episode, as the JSON has them."""
    rows = text_rows(text)
    for row in totals_rows(document) + meter_rows(document):
        assert filled(row) in rows, row
    for episode in episodes(document):
        episode_row(rows, episode)


def read_back(folder: Path, pdf: Path, *report: str) -> tuple[str, dict]:
    """The pack's text, after checking it against the JSON report, and that report."""
    text = made_pdf(folder, pdf, *report)
    document = document_of(folder, *report)
    assert_figures_as_json(text, document)
    return text, document


def test_the_month_pdf_carries_every_figure_of_the_json_and_every_episode(october, tmp_path):
    pdf = tmp_path / "2026-10.pdf"
    text, document = read_back(october, pdf, *MONTH)
    rows = text_rows(text)
    assert ["TOTAL", "site", "7335.900", "768.800", "8104.700", "12637.80"] in rows
    assert ["grid", "2024-01-01T00:00:00+06:00", "2", "4533.100", "9066.20"] in rows
    assert ["off_grid", "2024-01-01T00:00:00+06:00", "1", "3571.600", "3571.60"] in rows
    assert len(episodes(document)) == 6
    for episode in episodes(document):
        # pdftotext may close up the space of "2 h"
        assert episode_row(rows, episode)[5].split() in (
            DURATIONS[episode[2]].split(),
            ["".join(DURATIONS[episode[2]].split())],
        )
    assert ["Status", "OPEN"] in rows
    assert ["PROVISIONAL: not closed"] in rows
    assert ["Pack made", f"{NOVEMBER} (the ledger clock)"] in rows
    assert "Declaration due" not in text  # a month has none of its own
    assert assert_pages_drawn(pdf, tmp_path / "pages") >= 4


def test_the_quarter_pdf_carries_its_due_dates_and_the_same_figures(october, tmp_path):
    pdf = tmp_path / "2026-Q4.pdf"
    rows = text_rows(read_back(october, pdf, *QUARTER)[0])
    assert ["Declaration due", "2027-02-15"] in rows
    assert ["Payment due", "2027-02-25"] in rows
    assert ["Period", "2026-Q4 (quarter)"] in rows
    assert [f"PROVISIONAL: accounted to {NOVEMBER} of 2027-01-01T00:00:00+05:00"] in rows
    assert_pages_drawn(pdf, tmp_path / "pages")


def test_the_days_add_up_to_the_printed_totals_and_match_the_scenario(october, tmp_path):
    """rig-4 (1 kW, never heard from) is deemed 24 kWh a day; on Oct 5 rig-3 adds its 6 h of
    no_baseline (15 kWh), on Oct 15 rig-1 its 2 h of no_data (7.2 kWh); rig-1 meters 72 kWh a
    day, rig-2 115.2 off-grid."""
    text = made_pdf(october, tmp_path / "pack.pdf", *MONTH)
    document = document_of(october, *MONTH)
    days = [row for row in text_rows(text) if row[0].startswith("2026-10-") and len(row) == 6]
    assert len(days) == 31
    assert days[0] == ["2026-10-01", "72.000", "24.000", "115.200", "0.000", "211.200"]
    assert days[4][2] == "39.000" and days[14][2] == "31.200"
    for day in days:
        assert sum(Decimal(cell) for cell in day[1:5]) == Decimal(day[5]), day
    grid, off_grid = document["by_supply"]["grid"], document["by_supply"]["off_grid"]
    total = [
        "TOTAL",
        grid["metered_kwh"],
        grid["deemed_kwh"],
        off_grid["metered_kwh"],
        off_grid["deemed_kwh"],
        document["totals"]["kwh"],
    ]
    assert total in text_rows(text)
    for column in range(1, 6):
        assert sum(Decimal(day[column]) for day in days) == Decimal(total[column]), column


def test_the_same_ledger_makes_the_same_pdf_whether_to_a_file_or_stdout(october, tmp_path):
    first = ok(october, *MONTH, "--format", "pdf").stdout
    assert first.startswith(b"%PDF-")
    ok(october, *MONTH, "--format", "pdf", "--output", str(tmp_path / "again.pdf"))
    assert (tmp_path / "again.pdf").read_bytes() == first
    assert b"/CreationDate (D:20261101000000+05'00')" in first  # the ledger clock
    html = ok(october, *MONTH, "--format", "html").stdout
    assert ok(october, *MONTH, "--format", "html").stdout == html


def test_the_html_in_chromium_shows_the_json_figures(october, tmp_path):
    page = tmp_path / "pack.html"
    done = ok(october, *QUARTER, "--format", "html", "--output", str(page))
    assert done.err == ""
    document = document_of(october, *QUARTER)
    shot = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    assert inked(shot) > 0.02
    built = read_tables(dom(page, tmp_path / "profile"))
    rows = [row for table in built.tables for row in table]
    for row in totals_rows(document) + meter_rows(document):
        assert row in rows, row
    for meter, reason, start, end, kwh in episodes(document):
        found = [r for r in rows if len(r) == 7 and r[0] == meter and r[3] == start]
        assert len(found) == 1 and found[0][4] == end and found[0][6] == kwh, found
        assert found[0][2].startswith(f"{reason} ("), found
    assert ["Declaration due", "2027-02-15"] in rows and ["Payment due", "2027-02-25"] in rows
    text = "".join(built.text)
    assert "12637.80" in text and "8104.700" in text
    assert page.read_text().count("<svg ") == 2  # the days and the timeline


def test_a_closed_month_says_so(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    write_site(folder)
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED))  # to its last line, 00:20
    ok(folder, "close", "-c", "site.toml", "--period", "2026-10")
    rows = text_rows(made_pdf(folder, tmp_path / "pack.pdf", *MONTH))
    assert ["Status", "CLOSED"] in rows
    assert not any(row[0].startswith("PROVISIONAL") for row in rows)


ODD_IDS = ["Риг «Север» 1", 'rig "2" <&>', "a&b<c>d", "=SUM(A1)", "ёлка-Ё"]


@pytest.fixture(scope="module")
def tricky(tmp_path_factory) -> Path:
    """Ids with Cyrillic, quotes and markup, every meter never heard from (one deemed episode
    each), for one day."""
    folder = tmp_path_factory.mktemp("tricky-pack")
    meters = "".join(
        f'\n[[meters]]\nid = \'{name}\'\ntopic = "t/{n}"\nrated_kw = "1"\n'
        for n, name in enumerate(ODD_IDS)
    )
    head = (
        '[site]\nid = \'Экибастуз <1> & "A"\'\n\n[ledger]\npath = "var/tricky.sqlite"\n'
        "accounting_start = 2026-10-01T00:00:00+05:00\n"
    )
    (folder / "site.toml").write_text(head + meters)
    (folder / "feed.jsonl").write_text(SILENT_LINE)
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", "2026-10-02T00:00")
    return folder


def test_ids_reach_the_pdf_and_the_html_as_the_site_wrote_them(tricky, tmp_path):
    pdf = tmp_path / "pack.pdf"
    text = made_pdf(tricky, pdf, *MONTH)
    for meter in ODD_IDS:
        assert meter in text, meter
    assert 'Экибастуз <1> & "A"' in text
    assert_pages_drawn(pdf, tmp_path / "pages")

    page = tmp_path / "pack.html"
    done = ok(tricky, *MONTH, "--format", "html", "--output", str(page))
    assert done.err == ""  # no glyph missing from the face, in the charts either
    raw = page.read_text()
    assert "<&>" not in raw and "<c>" not in raw and "&lt;&amp;&gt;" in raw
    built = read_tables(dom(page, tmp_path / "profile"))
    cells = {cell for table in built.tables for row in table for cell in row}
    assert set(ODD_IDS) <= cells
    assert 'Levy filing pack 2026-10: site Экибастуз <1> & "A"' in "".join(built.text)
    assert inked(screenshot(page, tmp_path / "shot.png", tmp_path / "profile")) > 0.02


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """Seventy meters never heard from over October: seventy episodes, three timeline charts."""
    folder = tmp_path_factory.mktemp("many")
    meters = "".join(
        f'\n[[meters]]\nid = "rig-{n:03d}"\ntopic = "t/{n}"\nrated_kw = "2"\n' for n in range(70)
    )
    head = (
        '[site]\nid = "many-1"\n\n[ledger]\npath = "var/many.sqlite"\n'
        "accounting_start = 2026-10-01T00:00:00+05:00\n"
    )
    (folder / "site.toml").write_text(head + meters)
    (folder / "feed.jsonl").write_text(SILENT_LINE)
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", NOVEMBER)
    return folder


def test_a_long_list_of_episodes_runs_over_pages_and_keeps_every_one(many, tmp_path):
    pdf = tmp_path / "pack.pdf"
    text, document = read_back(many, pdf, *MONTH)
    rows = text_rows(text)
    assert len(episodes(document)) == 70
    for episode in episodes(document):
        assert episode_row(rows, episode)[6] == "1488.000"
    heads = [row for row in rows if row[:3] == ["meter", "supply", "reason"]]
    assert len(heads) >= 2  # the table's heads again on the page it runs on to
    for chart in ("meters 1 to 30 of 70", "meters 31 to 60 of 70", "meters 61 to 70 of 70"):
        assert chart in text
    assert_pages_drawn(pdf, tmp_path / "pages")
