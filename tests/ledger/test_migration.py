"""A ledger written by schema 1 (the October scenario, replayed by the release before schema 2,
kept as a fixture) is upgraded by a writer with its figures unchanged (a reader refuses to), and
its first writer stores the rate schedule that billed it."""

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from levy.cli import main
from levy.ledger.changes import BEGINNING, pending_rows
from levy.ledger.store import Ledger
from tests.app.scenario import write_site
from tests.app.test_scenario import OCTOBER

FIXTURE = Path(__file__).parent / "fixtures" / "october-v1.sqlite.gz"


@pytest.fixture
def v1_site(tmp_path: Path) -> Path:
    config = write_site(tmp_path)
    ledger = tmp_path / "var" / "october-demo.sqlite"
    ledger.parent.mkdir()
    with gzip.open(FIXTURE) as packed, ledger.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return config


def report(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["report", "-c", str(config), "--period", "2026-10", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    document.pop("evidence")  # the chain head: this ledger's own history, not OCTOBER's
    return document


def test_a_schema_1_ledger_keeps_its_figures(v1_site: Path, capsys) -> None:
    ledger = v1_site.parent / "var" / "october-demo.sqlite"
    before = ledger.read_bytes()
    assert main(["report", "-c", str(v1_site), "--period", "2026-10"]) == 2
    assert "run replay, close or run once to upgrade it" in capsys.readouterr().err
    assert ledger.read_bytes() == before, "a reader never writes"
    Ledger(ledger).close()
    assert report(v1_site, capsys) == OCTOBER
    assert main(["close", "-c", str(v1_site), "--period", "2026-10"]) == 0
    assert report(v1_site, capsys) == {**OCTOBER, "closed": True, "provisional": []}


def test_the_first_writer_stores_the_schedule_and_rates_every_row(v1_site: Path) -> None:
    assert main(["close", "-c", str(v1_site), "--period", "2026-10"]) == 0
    db = sqlite3.connect(v1_site.parent / "var" / "october-demo.sqlite")
    assert db.execute("SELECT from_ms, grid, off_grid FROM rate_steps").fetchall() == [
        (1704045600000, "2", "1")
    ]
    rates = "SELECT m.name, i.supply, i.rated_w, i.rate, COUNT(*) FROM intervals i JOIN meters m ON m.id = i.meter_id GROUP BY 1, 2, 3, 4"
    assert {row[:4] for row in db.execute(rates)} == {
        ("rig-1", 0, 3600, "2"),
        ("rig-2", 1, 6000, "1"),
        ("rig-3", 0, 2500, "2"),
        ("rig-4", 0, 1000, "2"),
    }
    assert db.execute("SELECT COUNT(*) FROM totals WHERE rate IS NULL").fetchone() == (0,)


def test_an_upgraded_ledger_exports_every_row_from_the_beginning(v1_site: Path) -> None:
    """Rows from before change numbers carry 0: a new cursor starts below them."""
    with Ledger(v1_site.parent / "var" / "october-demo.sqlite") as ledger:
        rows = ledger.db.execute("SELECT COUNT(*) FROM intervals").fetchone()[0]
        assert rows > 0
        assert pending_rows(ledger.db, BEGINNING) == rows
