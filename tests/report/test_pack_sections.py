"""Sections other parts of the report add to the document (the evidence, the projection, the
reconciliation) are printed when the document has them, in both faces, and absent otherwise.
The demo's pack is read from its ledger as `report` reads it, and its document extended here."""

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from levy.cli.common import site_at
from levy.cli.report import site_pack
from levy.core.calendar import parse_period
from levy.report.pack.html import render_html
from levy.report.pack.model import Pack
from levy.report.pack.pdf import render_pdf
from tests.app.scenario import write_site
from tests.report.packs import text_rows
from tests.report.pages import pdf_text, read_tables
from tests.report.process import DEMO_FEED, ok

PUBLIC_KEY = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
HEAD = {"block": 57, "hash": "a1" * 32, "at": "2026-11-01T00:00:00+05:00"}


def close_record(block: int, signed: bool = True) -> dict[str, Any]:
    return {
        "chain_head": {"block": block, "hash": f"{block:02x}" * 32},
        "period_digest": "d1" * 32,
        "signature": "5e" * 64 if signed else None,
        "public_key": PUBLIC_KEY if signed else None,
    }


PROJECTION = {
    "as_of": "2026-10-20T14:00:00+05:00",
    "basis": "figures to date plus the billed kWh per second of the last day",
    "kwh": "12401.250",
    "fee_tenge": "19338.10",
    "by_supply": {
        "grid": {"kwh": "6936.650", "fee_tenge": "13873.30"},
        "off_grid": {"kwh": "5464.600", "fee_tenge": "5464.80"},
    },
}
RECONCILIATION = {
    "tolerance_pct": "2",
    "main_meters": [
        {
            "meter": "главный ввод",
            "supply": "grid",
            "kwh": "4600.000",
            "metered_kwh": "4590.000",
            "deemed_kwh": "10.000",
        }
    ],
    "lines": [
        {
            "supply": "grid",
            "source": "site_main",
            "period": "2026-10",
            "reference_kwh": "4600.000",
            "billed_kwh": "4533.100",
            "difference_kwh": "-66.900",
            "difference_pct": "-1.45",
            "flagged": False,
        },
        {
            "supply": "grid",
            "source": "invoice",
            "period": "2026-10",
            "reference_kwh": "4400.000",
            "billed_kwh": "4533.100",
            "difference_kwh": "133.100",
            "difference_pct": "3.03",
            "flagged": True,
            "invoice": {
                "kwh": "4400.000",
                "entered_at": "2026-11-05T10:00:00+05:00",
                "note": "счёт №17",
                "superseded": [
                    {"kwh": "4300.000", "entered_at": "2026-11-04T09:00:00+05:00", "note": None}
                ],
            },
        },
    ],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sections")
    write_site(folder)
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", "2026-11-01T00:00")
    return folder


def pack_of(folder: Path, period: str, **sections: Any) -> Pack:
    pack = site_pack(site_at(folder / "site.toml"), parse_period(period))
    return replace(pack, document={**pack.document, **sections})


def faces(pack: Pack, folder: Path) -> tuple[str, list[list[str]]]:
    """The PDF's text and the HTML's table rows."""
    pdf = folder / "pack.pdf"
    pdf.write_bytes(render_pdf(pack))
    tables = read_tables(render_html(pack)).tables
    return pdf_text(pdf), [row for table in tables for row in table]


def fingerprint(key: str) -> str:
    digits = hashlib.sha256(bytes.fromhex(key)).hexdigest()[:32]
    return "SHA-256 " + " ".join(digits[i : i + 4] for i in range(0, 32, 4))


def test_a_closed_month_shows_its_chain_head_and_signed_close_record(demo, tmp_path):
    evidence = {"chain_head": HEAD, "closed": close_record(55)}
    text, rows = faces(pack_of(demo, "2026-10", evidence=evidence), tmp_path)
    for facts in (
        ["Chain head", "block 57 at 2026-11-01T00:00:00+05:00"],
        ["Head hash", "a1" * 32],
        ["Close record", "chain head block 55"],
        ["Closed head hash", "37" * 32],
        ["Period digest", "d1" * 32],
        ["Public key", PUBLIC_KEY],
        ["Key fingerprint", fingerprint(PUBLIC_KEY)],
    ):
        assert facts in rows, facts
        assert facts in text_rows(text), facts
    assert ["Signature", "5e" * 64] in rows
    assert "5e" * 64 in "".join(text.split())  # a signature's 128 digits wrap on the page


def test_a_quarter_shows_each_closed_months_record_and_an_unsigned_one_says_so(demo, tmp_path):
    closed = [{"period": "2026-10", **close_record(55, signed=False)}]
    evidence = {"chain_head": HEAD, "closed": closed}
    text, rows = faces(pack_of(demo, "2026-Q4", evidence=evidence), tmp_path)
    assert ["Close record of 2026-10", "chain head block 55"] in rows
    assert ["Signature", "not signed"] in rows
    assert not any(row[0] == "Public key" for row in rows)
    assert ["Close record of 2026-10", "chain head block 55"] in text_rows(text)


def test_an_open_month_says_it_has_no_close_record(demo, tmp_path):
    evidence = {"chain_head": None, "closed": None}
    text, rows = faces(pack_of(demo, "2026-10", evidence=evidence), tmp_path)
    assert ["Chain head", "none: nothing recorded yet"] in rows
    assert "No close record: the period is not closed." in text


def test_the_projection_and_the_reconciliation_are_printed_with_their_flags(demo, tmp_path):
    pack = pack_of(demo, "2026-10", projection=PROJECTION, reconciliation=RECONCILIATION)
    text, rows = faces(pack, tmp_path)
    printed = text_rows(text)
    for row in (
        ["As of", "2026-10-20T14:00:00+05:00"],
        ["grid", "6936.650", "13873.30"],
        ["off_grid", "5464.600", "5464.80"],
        ["TOTAL", "12401.250", "19338.10"],
        ["grid", "site_main", "2026-10", "4600.000", "4533.100", "-66.900", "-1.45", "ok"],
        ["grid", "invoice", "2026-10", "4400.000", "4533.100", "133.100", "3.03", "FLAGGED"],
        ["главный ввод", "grid", "4590.000", "10.000", "4600.000"],
        ["Tolerance", "2%"],
    ):
        assert row in rows, row
        assert row in printed, row
    invoice = ["2026-10", "grid", "4400.000", "2026-11-05T10:00:00+05:00", "счёт №17"]
    assert [*invoice, "4300.000 (2026-11-04T09:00:00+05:00)"] in rows
    assert "счёт №17" in text


def test_sections_the_document_lacks_are_left_out(demo, tmp_path):
    pack = pack_of(demo, "2026-10")
    added = ("evidence", "projection", "reconciliation")
    lacking = {key: value for key, value in pack.document.items() if key not in added}
    text, rows = faces(replace(pack, document=lacking), tmp_path)
    for absent in ("Evidence", "Chain head", "Projection", "Reconciliation"):
        assert absent not in text
    assert not any(row and row[0] in ("Chain head", "As of", "Tolerance") for row in rows)


def test_a_reconciliation_with_nothing_to_set_against_says_so(demo, tmp_path):
    nothing = {"tolerance_pct": "2", "main_meters": [], "lines": []}
    text, _ = faces(pack_of(demo, "2026-10", reconciliation=nothing), tmp_path)
    assert "No main meter and no invoice for this period: nothing to reconcile." in text
