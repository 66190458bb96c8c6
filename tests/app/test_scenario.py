"""A month of a small site with every deemed reason, replayed and reported; the expected report
is written out by hand (see scenario.py for the story and the arithmetic in each comment)."""

import gzip
import itertools
import json
import sqlite3
from datetime import datetime

import pytest

from levy.cli import main
from levy.core.units import datetime_to_ms
from levy.ledger.store import Ledger
from tests.app.scenario import DEMO, write_feed, write_site

OCTOBER = {
    "site": "scenario-1",
    "period": "2026-10",
    "timezone": "Asia/Almaty",
    "period_start": "2026-10-01T00:00:00+05:00",
    "period_end": "2026-11-01T00:00:00+05:00",
    "coverage_start": "2026-10-01T00:00:00+05:00",
    "coverage_end": "2026-11-01T00:00:00+05:00",
    "closed": False,
    "provisional": ["not closed"],
    # 8104.7 = grid 4533.1 + off-grid 3571.6; fee 9066.20 + 3571.60
    "totals": {
        "kwh": "8104.700",
        "metered_kwh": "7335.900",
        "deemed_kwh": "768.800",
        "fee_tenge": "12637.80",
    },
    "by_supply": {
        "grid": {
            "kwh": "4533.100",
            "metered_kwh": "3766.300",
            "deemed_kwh": "766.800",
            "fee_tenge": "9066.20",
            "rates": [
                {
                    "from": "2024-01-01T00:00:00+06:00",
                    "tenge_per_kwh": "2",
                    "kwh": "4533.100",
                    "fee_tenge": "9066.20",
                }
            ],
        },
        "off_grid": {
            "kwh": "3571.600",
            "metered_kwh": "3569.600",
            "deemed_kwh": "2.000",
            "fee_tenge": "3571.60",
            "rates": [
                {
                    "from": "2024-01-01T00:00:00+06:00",
                    "tenge_per_kwh": "1",
                    "kwh": "3571.600",
                    "fee_tenge": "3571.60",
                }
            ],
        },
    },
    "meters": [
        {
            # 4464 ten-minute steps x 0.5 = 2232; the fault step (0.5) is deemed 0.6 at 3.6 kW;
            # the 2-hour silence (12 steps, 6.0) is deemed 7.2
            "meter": "rig-1",
            "supply": "grid",
            "rated_kw": "3.6",
            "kwh": "2233.300",
            "metered_kwh": "2225.500",
            "deemed_kwh": "7.800",
            "fee_tenge": "4466.60",
            "deemed_intervals": [
                {
                    "start": "2026-10-10T12:00:00+05:00",
                    "end": "2026-10-10T12:10:00+05:00",
                    "reason": "meter_fault",
                    "kwh": "0.600",
                },
                {
                    "start": "2026-10-15T00:00:00+05:00",
                    "end": "2026-10-15T02:00:00+05:00",
                    "reason": "no_data",
                    "kwh": "7.200",
                },
            ],
        },
        {
            # 4464 x 0.8 = 3571.2; the reset and the spike steps (0.8 each) deemed at 6 kW: 1.0 each
            "meter": "rig-2",
            "supply": "off_grid",
            "rated_kw": "6",
            "kwh": "3571.600",
            "metered_kwh": "3569.600",
            "deemed_kwh": "2.000",
            "fee_tenge": "3571.60",
            "deemed_intervals": [
                {
                    "start": "2026-10-20T07:50:00+05:00",
                    "end": "2026-10-20T08:00:00+05:00",
                    "reason": "register_decrease",
                    "kwh": "1.000",
                },
                {
                    "start": "2026-10-25T15:50:00+05:00",
                    "end": "2026-10-25T16:00:00+05:00",
                    "reason": "implausible",
                    "kwh": "1.000",
                },
            ],
        },
        {
            # commissioned Oct 5 00:00, first heard 06:00: 6 h x 2.5 kW = 15 deemed;
            # then 642 h = 3852 steps x 0.4 = 1540.8
            "meter": "rig-3",
            "supply": "grid",
            "rated_kw": "2.5",
            "kwh": "1555.800",
            "metered_kwh": "1540.800",
            "deemed_kwh": "15.000",
            "fee_tenge": "3111.60",
            "deemed_intervals": [
                {
                    "start": "2026-10-05T00:00:00+05:00",
                    "end": "2026-10-05T06:00:00+05:00",
                    "reason": "no_baseline",
                    "kwh": "15.000",
                },
            ],
        },
        {
            # never heard from: 744 h x 1 kW
            "meter": "rig-4",
            "supply": "grid",
            "rated_kw": "1",
            "kwh": "744.000",
            "metered_kwh": "0.000",
            "deemed_kwh": "744.000",
            "fee_tenge": "1488.00",
            "deemed_intervals": [
                {
                    "start": "2026-10-01T00:00:00+05:00",
                    "end": "2026-11-01T00:00:00+05:00",
                    "reason": "no_baseline",
                    "kwh": "744.000",
                },
            ],
        },
    ],
    # no site_main meter and no invoice; October is over at the ledger clock (Nov 1 00:20)
    "reconciliation": {"tolerance_pct": "2", "main_meters": [], "lines": []},
    "projection": None,
}


def assert_coverage(path) -> None:
    """The coverage invariant on the stored rows: each meter's rows tile its time from its
    accounting start to how far it is accounted, with no gap and no overlap."""
    with Ledger(path, writer=False) as ledger:
        states, _ = ledger.states()
        starts = {"rig-3": ms("2026-10-05T00:00:00+05:00")}
        for meter, state in states.items():
            spans = ledger.coverage(meter)
            assert spans[0][0] == starts.get(meter, ms("2026-10-01T00:00:00+05:00"))
            assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
            assert spans[-1][1] == state.accrued_ms


def ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


@pytest.fixture
def site(tmp_path):
    config = write_site(tmp_path)
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    return config, feed


def report(config, capsys, period="2026-10") -> dict:
    """The figures of the report (its evidence, the ledger's chain head, is not worked out by
    hand: tests/app/test_verify_cli.py checks it)."""
    capsys.readouterr()
    assert main(["report", "-c", str(config), "--period", period, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    document.pop("evidence")
    return document


def test_october_replayed_and_reported_as_computed_by_hand(site, capsys):
    config, feed = site
    assert main(["replay", "-c", str(config), "-i", str(feed)]) == 0
    summary = capsys.readouterr().out
    assert (
        "lines read        12783 = accepted 12779 + rejected 3 + ignored 0 + malformed 1" in summary
    )
    assert "rejected          1 duplicate" in summary
    assert "rejected          1 non_finite" in summary
    assert "rejected          1 unknown_meter" in summary
    assert report(config, capsys) == OCTOBER
    assert_coverage(config.parent / "var" / "october-demo.sqlite")
    ledger = sqlite3.connect(config.parent / "var" / "october-demo.sqlite")
    by_rows = "SELECT meter_id, kind, SUM(energy_mj) FROM intervals GROUP BY 1, 2 ORDER BY 1, 2"
    by_totals = "SELECT meter_id, kind, SUM(energy_mj) FROM totals GROUP BY 1, 2 ORDER BY 1, 2"
    assert ledger.execute(by_rows).fetchall() == ledger.execute(by_totals).fetchall()


def test_replaying_twice_equals_replaying_once(site, capsys):
    config, feed = site
    assert main(["replay", "-c", str(config), "-i", str(feed)]) == 0
    assert main(["replay", "-c", str(config), "-i", str(feed)]) == 0
    assert report(config, capsys) == OCTOBER


def test_closing_then_reporting_equals_reporting(site, capsys):
    config, feed = site
    assert main(["replay", "-c", str(config), "-i", str(feed)]) == 0
    assert main(["close", "-c", str(config), "--period", "2026-10"]) == 0
    assert report(config, capsys) == {**OCTOBER, "closed": True, "provisional": []}


def test_quarter_report_adds_the_due_dates(site, capsys):
    config, feed = site
    assert main(["replay", "-c", str(config), "-i", str(feed)]) == 0
    quarter = report(config, capsys, "2026-Q4")
    assert quarter["declaration_due"] == "2027-02-15"
    assert quarter["payment_due"] == "2027-02-25"
    assert quarter["period_end"] == "2027-01-01T00:00:00+05:00"


def test_the_committed_demo_feed_is_this_scenario(tmp_path):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    assert gzip.decompress((DEMO / "october-demo.jsonl.gz").read_bytes()) == feed.read_bytes()
