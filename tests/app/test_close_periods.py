"""`close` as people mistype it: a period out of range or before the ledger began is one plain
line and exit 2, the ledger unchanged; a quarter that began before the ledger closes only the
months the ledger accounts."""

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from levy.app.closing import months_to_close
from levy.app.site import Site
from levy.config import load_config
from levy.core.units import datetime_to_ms
from levy.ledger.store import Ledger
from tests.app.scenario import write_feed, write_site
from tests.live.harness import levy

OCTOBER_END = "2026-11-01T00:20:00+05:00"


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("october")
    config = write_site(folder)
    feed = folder / "october.jsonl"
    write_feed(feed)
    done = levy("replay", "-c", str(config), "-i", str(feed))
    assert done.returncode == 0, done.stderr
    return config


def ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


def ledger_dump(config: Path) -> list:
    with sqlite3.connect(config.parent / "var" / "october-demo.sqlite") as db:
        return db.execute("SELECT * FROM closed_periods").fetchall()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("0000-01", "period '0000-01' is out of range: years 2000 to 2099"),
        ("9999-12", "period '9999-12' is out of range: years 2000 to 2099"),
        ("2026-13", "period '2026-13' is neither YYYY-MM nor YYYY-Qn"),
        (
            "2026-09",
            "period 2026-09 ends before the ledger's accounting start "
            "2026-10-01T00:00:00+05:00: nothing is accounted in it, so nothing to close",
        ),
        ("2026-Q3", "period 2026-Q3 ends before the ledger's accounting start"),
    ],
)
def test_a_period_that_cannot_be_closed_is_one_plain_line(october, period, said) -> None:
    before = ledger_dump(october)
    done = levy("close", "-c", str(october), "--period", period)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(f"levy-monitor: {said}")
    assert done.stdout == ""
    assert ledger_dump(october) == before


def test_a_report_of_a_period_out_of_range_is_one_plain_line(october) -> None:
    for period in ("0000-01", "9999-12"):
        done = levy("report", "-c", str(october), "--period", period)
        assert done.returncode == 2
        assert "out of range" in one_line(done.stderr)


def test_a_quarter_that_began_before_the_ledger_closes_only_its_accounted_months(tmp_path):
    site = Site.from_config(load_config(write_site(tmp_path)))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.bind_site(site.id, ms("2026-11-15T00:00:00+05:00"), site.calendar.zone.key)
        assert months_to_close(site, ledger, "2026-Q4") == ["2026-11", "2026-12"]
        assert months_to_close(site, ledger, "2026-11") == ["2026-11"]
