"""Reconciliation and the projection, computed by hand for a small site replayed from a feed written
here, the invoices entered with the command, as an accountant would.

The site, accounting from Oct 1 00:00 (Almaty), readings every 10 minutes to Oct 3 00:00:

    A  grid      10 kW  billed     +1.0 kWh per 10 min      288 steps: 288.000 kWh
    B  grid      10 kW  billed     +0.5 kWh per 10 min                 144.000 kWh
    C  off_grid   5 kW  billed     +0.4 kWh per 10 min                 115.200 kWh
    M  grid      20 kW  site_main  +1.53 kWh per 10 min, silent from Oct 2 12:00 to 12:30:
                                   285 steps metered 436.050 + 30 min at 20 kW deemed 10.000

Rates 2 / 1 tenge per kWh, and 3 / 1.5 from Oct 20 (ahead of the ledger clock)."""

import json
import sqlite3
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from levy.app.site import Site
from levy.config import load_config
from levy.core.calendar import parse_period
from levy.core.units import datetime_to_ms
from levy.export.points import liability_points
from levy.ledger.changes import BEGINNING, changed_rows
from levy.ledger.store import Ledger
from levy.report.figures import build_figures, build_supply_figures
from levy.report.render import liability_document, to_document
from tests.app.scenario import ALMATY, STEP, line, native
from tests.report.adding import assert_adds_up
from tests.report.process import assert_refused, levy, ok, snapshot
from tests.report.test_report_command import figures_of, from_csv

START = datetime(2026, 10, 1, tzinfo=ALMATY)
END = datetime(2026, 10, 3, tzinfo=ALMATY)
GAP = (datetime(2026, 10, 2, 12, tzinfo=ALMATY), datetime(2026, 10, 2, 12, 30, tzinfo=ALMATY))
STEPS = {"A": Decimal("1.0"), "B": Decimal("0.5"), "C": Decimal("0.4"), "M": Decimal("1.53")}
REGISTERS = {"A": Decimal(100), "B": Decimal(200), "C": Decimal(300), "M": Decimal(1000)}

SITE = """\
[site]
id = "recon-1"

[ledger]
path = "var/recon-1.sqlite"
accounting_start = 2026-10-01T00:00:00+05:00

[reconciliation]
tolerance_pct = "{tolerance}"

[[rates]]
from = 2024-01-01
grid = "2"
off_grid = "1"

[[rates]]
from = 2026-10-20
grid = "3"
off_grid = "1.5"

[[meters]]
id = "A"
topic = "recon/A"
rated_kw = "10"

[[meters]]
id = "B"
topic = "recon/B"
rated_kw = "10"

[[meters]]
id = "C"
topic = "recon/C"
rated_kw = "5"
supply = "off_grid"

[[meters]]
id = "M"
topic = "recon/M"
rated_kw = "20"
role = "{role}"
"""
REPORT = ("report", "-c", "site.toml", "--period")


def write_site(folder: Path, tolerance: str = "2", role: str = "site_main") -> None:
    (folder / "site.toml").write_text(SITE.format(tolerance=tolerance, role=role))


def write_feed(path: Path, first: datetime = START, last: datetime = END) -> None:
    """Every meter's reading at each 10 minutes of [first, last], M's gap left out."""
    lines, moment = [], first
    while moment <= last:
        for meter, step in STEPS.items():
            register = REGISTERS[meter] + step * ((moment - START) // STEP)
            if meter != "M" or not GAP[0] < moment < GAP[1]:
                lines.append(line(moment, f"recon/{meter}", native(moment, register)))
        moment += STEP
    path.write_text("\n".join(lines) + "\n")


def report(folder: Path, period: str = "2026-10") -> dict:
    return json.loads(ok(folder, *REPORT, period, "--format", "json").out)


def invoice(folder: Path, *argv: str) -> str:
    return ok(folder, "invoice", "-c", "site.toml", *argv).out


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recon")
    write_site(folder)
    write_feed(folder / "feed.jsonl")
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl")
    return folder


def copied(replayed: Path, folder: Path, tolerance: str = "2") -> Path:
    """The replayed site in `folder` (only its ledger file: the replay closed it cleanly)."""
    (folder / "var").mkdir(parents=True)
    name = "recon-1.sqlite"
    (folder / "var" / name).write_bytes((replayed / "var" / name).read_bytes())
    write_site(folder, tolerance)
    return folder


@pytest.fixture(scope="module")
def invoiced(replayed: Path, tmp_path_factory) -> tuple[Path, int, int]:
    """October's grid invoice entered, then corrected; an off-grid one; the wall clock around."""
    replayed = copied(replayed, tmp_path_factory.mktemp("invoiced") / "site")
    before = int(time.time() * 1000) - 1000
    invoice(replayed, "--period", "2026-10", "--kwh", "440", "--note", "invoice 17/10")
    invoice(replayed, "--period", "2026-10", "--kwh", "432.5", "--note", "corrected, 17/10-K")
    invoice(replayed, "--period", "2026-10", "--kwh", "100", "--supply", "off_grid")
    return replayed, before, int(time.time() * 1000) + 1000


def entered_ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


def test_a_site_main_meter_is_measured_but_never_billed(replayed):
    document = report(replayed)
    assert_adds_up(document)
    assert [m["meter"] for m in document["meters"]] == ["A", "B", "C"]
    assert document["by_supply"]["grid"]["kwh"] == "432.000"  # A 288 + B 144
    assert document["by_supply"]["grid"]["fee_tenge"] == "864.00"
    assert document["totals"] == {
        "kwh": "547.200",
        "metered_kwh": "547.200",
        "deemed_kwh": "0.000",
        "fee_tenge": "979.20",
    }
    assert document["coverage_end"] == "2026-10-03T00:00:00+05:00"  # M is accounted like any other
    with Ledger(replayed / "var" / "recon-1.sqlite", writer=False) as ledger:
        exported = {changed.row.meter for changed in changed_rows(ledger.db, BEGINNING, 10**6)}
    assert exported == {"A", "B", "C"}  # levy_interval sums per supply stay the report's


def test_the_main_meter_line_by_hand(replayed):
    """M: 285 x 1.53 = 436.050 metered, 10.000 deemed (30 min x 20 kW): 446.050. Billed grid
    432.000: difference -14.050, -14.05 / 446.05 = -3.1499 %: -3.15, over 2 %. Deemed share
    10 / 446.05 = 2.2419 %: 2.24."""
    section = report(replayed)["reconciliation"]
    assert section["tolerance_pct"] == "2"
    assert section["main_meters"] == [
        {
            "meter": "M",
            "supply": "grid",
            "kwh": "446.050",
            "metered_kwh": "436.050",
            "deemed_kwh": "10.000",
        }
    ]
    assert section["lines"] == [
        {
            "supply": "grid",
            "source": "site_main",
            "period": "2026-10",
            "reference_kwh": "446.050",
            "billed_kwh": "432.000",
            "difference_kwh": "-14.050",
            "difference_pct": "-3.15",
            "flagged": True,
            "reference_deemed_pct": "2.24",
        }
    ]


@pytest.mark.parametrize(("tolerance", "flagged"), [("3.14", True), ("3.15", False)])
def test_the_flag_goes_on_above_the_tolerance_as_printed(replayed, tmp_path, tolerance, flagged):
    """The printed percent, -3.15, is compared: beyond 3.14, not beyond 3.15."""
    copied(replayed, tmp_path, tolerance)
    [line] = report(tmp_path)["reconciliation"]["lines"]
    assert line["flagged"] is flagged and line["difference_pct"] == "-3.15"
    table = ok(tmp_path, *REPORT, "2026-10").out
    row = next(text for text in table.splitlines() if text.startswith("grid    site_main"))
    assert row.endswith(
        "OVER TOLERANCE; reference 2.24 % deemed"
        if flagged
        else "within tolerance; reference 2.24 % deemed"
    )


def test_invoices_by_hand_the_latest_counts_and_the_earlier_are_listed(invoiced):
    """Grid: the corrected 432.500 against 432.000 billed: -0.500, -0.1156 %: -0.12, within.
    Off-grid: 100.000 against 115.200: +15.200, 15.20 %, over."""
    folder, before, after = invoiced
    lines = report(folder)["reconciliation"]["lines"]
    assert [(x["source"], x["supply"]) for x in lines] == [
        ("site_main", "grid"),
        ("invoice", "grid"),
        ("invoice", "off_grid"),
    ]
    grid, off_grid = lines[1], lines[2]
    entries = [grid["invoice"], *grid["invoice"]["superseded"], off_grid["invoice"]]
    times = [entered_ms(entry["entered_at"]) for entry in entries]
    assert all(before <= t <= after for t in times)
    assert times[1] <= times[0] <= times[2]
    assert {k: v for k, v in grid.items() if k != "invoice"} == {
        "supply": "grid",
        "source": "invoice",
        "period": "2026-10",
        "reference_kwh": "432.500",
        "billed_kwh": "432.000",
        "difference_kwh": "-0.500",
        "difference_pct": "-0.12",
        "flagged": False,
    }
    assert grid["invoice"]["kwh"] == "432.500"
    assert grid["invoice"]["note"] == "corrected, 17/10-K"
    assert [(e["kwh"], e["note"]) for e in grid["invoice"]["superseded"]] == [
        ("440.000", "invoice 17/10")
    ]
    assert off_grid["difference_kwh"] == "15.200" and off_grid["difference_pct"] == "15.20"
    assert off_grid["flagged"] is True
    assert off_grid["invoice"]["note"] is None and off_grid["invoice"]["superseded"] == []


def test_a_quarter_sets_its_main_meters_against_the_quarter_and_lists_its_months_invoices(invoiced):
    folder, _, _ = invoiced
    month, quarter = report(folder), report(folder, "2026-Q4")
    main, *invoices = quarter["reconciliation"]["lines"]
    assert main["period"] == "2026-Q4" and main["reference_kwh"] == "446.050"
    assert [x["period"] for x in invoices] == ["2026-10", "2026-10"]
    assert invoices == month["reconciliation"]["lines"][1:]  # the month's billed kWh, as printed


def test_every_face_shows_the_reconciliation(invoiced):
    folder, _, _ = invoiced
    document = report(folder)
    csv_text = ok(folder, *REPORT, "2026-10", "--format", "csv").out
    assert from_csv(csv_text) == figures_of(document)
    rows = [text for text in csv_text.splitlines() if text.startswith("reconciliation,")]
    assert rows[0] == (
        "reconciliation,grid,,,,,,,,,,,site_main,2026-10,446.050,432.000,-14.050,-3.15,2.24,"
        "OVER TOLERANCE,,"
    )
    table = ok(folder, *REPORT, "2026-10").out.splitlines()
    at = table.index(
        "reconciliation (difference = billed - reference, % of the reference; tolerance 2 %):"
    )
    assert table[at + 1 : at + 5] == [
        "supply    source     period   reference   billed  difference      %  check",
        "grid      site_main  2026-10    446.050  432.000     -14.050  -3.15  OVER TOLERANCE; reference 2.24 % deemed",
        "grid      invoice    2026-10    432.500  432.000      -0.500  -0.12  within tolerance",
        "off_grid  invoice    2026-10    100.000  115.200      15.200  15.20  OVER TOLERANCE",
    ]
    assert "M           grid    436.050  10.000  446.050" in table
    invoices = [text for text in table if text.startswith("2026-10 ")]
    assert [text.split()[2] for text in invoices] == ["432.500", "440.000", "100.000"]
    assert invoices[1].split()[4:] == ["superseded", "invoice", "17/10"]


def test_the_projection_to_the_month_s_end_by_hand(replayed):
    """As of Oct 3 00:00 the last 24 h billed grid 144 x 1.5 = 216 kWh and off-grid 144 x 0.4 =
    57.6 kWh; 29 days are left. grid: 432 + 216 x 29 = 6696.000 kWh; 864.00 + 216 x 17 x 2
    (to Oct 20) + 216 x 12 x 3 = 864 + 7344 + 7776 = 15984.00. off-grid: 115.2 + 57.6 x 29 =
    1785.600; 115.20 + 57.6 x 17 + 57.6 x 12 x 1.5 = 115.2 + 979.2 + 1036.8 = 2131.20.
    M's energy (not billed) is not in it."""
    projection = report(replayed)["projection"]
    assert projection["as_of"] == "2026-10-03T00:00:00+05:00"
    assert projection["by_supply"] == {
        "grid": {"kwh": "6696.000", "fee_tenge": "15984.00"},
        "off_grid": {"kwh": "1785.600", "fee_tenge": "2131.20"},
    }
    assert (projection["kwh"], projection["fee_tenge"]) == ("8481.600", "18115.20")
    assert projection["basis"] == (
        "figures to date plus the billed kWh per second of 2026-10-02T00:00:00+05:00 .. "
        "2026-10-03T00:00:00+05:00 (1 d: grid 216.000 kWh, off_grid 57.600 kWh) times the "
        "29 d left to 2026-11-01T00:00:00+05:00, per supply, at the rates in force in that time"
    )
    table = ok(replayed, *REPORT, "2026-10").out.splitlines()
    at = table.index("projected to 2026-11-01T00:00:00+05:00 (as of 2026-10-03T00:00:00+05:00):")
    assert table[at + 1 : at + 5] == [
        "supply         kWh     tenge",
        "grid      6696.000  15984.00",
        "off_grid  1785.600   2131.20",
        "TOTAL     8481.600  18115.20",
    ]


def test_a_first_day_is_projected_from_the_coverage_start(tmp_path):
    """Accounted to Oct 1 06:00: the run rate is of those 6 hours (grid 36 x 1.5 = 54 kWh),
    over the remaining 30 d 18 h: 54 + 54 / 6 x 738 = 6696.000."""
    write_site(tmp_path)
    write_feed(tmp_path / "feed.jsonl", last=START + timedelta(hours=6))
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "feed.jsonl")
    projection = report(tmp_path)["projection"]
    assert projection["by_supply"]["grid"]["kwh"] == "6696.000"
    assert "2026-10-01T00:00:00+05:00 .. 2026-10-01T06:00:00+05:00 (6 h:" in projection["basis"]


def test_levy_liability_carries_the_projection(replayed):
    site = Site.from_config(load_config(replayed / "site.toml"))
    with Ledger(replayed / "var" / "recon-1.sqlite", writer=False) as ledger:
        figures = build_figures(
            ledger, site.id, site.calendar, site.rates, parse_period("2026-10"), False
        )
        points = liability_points(figures, to_document(figures, site.calendar), ledger.clock_ms)
    fields = {
        p.to_line_protocol().split(" ")[0]: p.to_line_protocol().split(" ")[1] for p in points
    }
    grid = fields["levy_liability,period=2026-10,site=recon-1,supply=grid"]
    assert "projected_fee_tenge=15984," in grid and "projected_kwh=6696," in grid
    assert ",kwh=432," in grid  # M's 446.05 kWh is in no liability
    site_wide = fields["levy_liability,period=2026-10,site=recon-1,supply=all"]
    assert site_wide.endswith(",projected_fee_tenge=18115.2,projected_kwh=8481.6")


def test_the_liabilities_print_what_the_whole_document_prints(replayed):
    """From the supplies' sums alone (no meters, no references): a site_main meter left out,
    two rate steps, the projection; the month and its quarter from one read of their totals."""
    site = Site.from_config(load_config(replayed / "site.toml"))
    periods = [parse_period("2026-10"), parse_period("2026-Q4")]
    with Ledger(replayed / "var" / "recon-1.sqlite", writer=False) as ledger:
        summed = build_supply_figures(ledger, site.id, site.calendar, site.rates, periods)
        for period, figures in zip(periods, summed, strict=True):
            whole = to_document(
                build_figures(ledger, site.id, site.calendar, site.rates, period), site.calendar
            )
            document = liability_document(figures, site.calendar)
            assert document["projection"] is not None
            assert document == {
                **{key: whole[key] for key in document if key != "by_supply"},
                "by_supply": {
                    supply: {key: value for key, value in section.items() if key != "rates"}
                    for supply, section in whole["by_supply"].items()
                },
            }


def test_a_finished_month_has_no_projection_anywhere(tmp_path):
    write_site(tmp_path)
    write_feed(tmp_path / "feed.jsonl")
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", "2026-11-01T00:20")
    assert report(tmp_path)["projection"] is None
    assert "projected" not in ok(tmp_path, *REPORT, "2026-10").out
    assert ",projected," not in ok(tmp_path, *REPORT, "2026-10", "--format", "csv").out
    assert report(tmp_path, "2026-Q4")["projection"] is not None  # the quarter goes on


def test_a_role_changed_mid_month_keeps_the_record(tmp_path):
    """M is billed (a rig, by mistake) to Oct 2 00:30, then marked site_main. Its first 147 steps
    stay billed: 147 x 1.53 = 224.910 kWh, 449.82 tenge; the rest is its main-meter energy:
    138 steps metered 211.140 + 10.000 deemed = 221.140. Billed grid 432 + 224.91 = 656.910:
    +435.770 against it, 197.06 % (435.77 / 221.14 = 1.970561)."""
    write_site(tmp_path, role="billed")
    change = datetime(2026, 10, 2, 0, 30, tzinfo=ALMATY)
    write_feed(tmp_path / "first.jsonl", last=change)
    write_feed(tmp_path / "second.jsonl", first=change + STEP)
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "first.jsonl")
    as_billed = report(tmp_path)
    write_site(tmp_path, role="site_main")
    assert report(tmp_path) == as_billed  # the configuration changed, the record did not
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "second.jsonl")
    document = report(tmp_path)
    assert_adds_up(document)
    m = next(m for m in document["meters"] if m["meter"] == "M")
    assert (m["kwh"], m["fee_tenge"], m["deemed_intervals"]) == ("224.910", "449.82", [])
    assert document["by_supply"]["grid"]["kwh"] == "656.910"
    section = document["reconciliation"]
    assert section["main_meters"][0]["kwh"] == "221.140"
    assert section["main_meters"][0]["deemed_kwh"] == "10.000"
    [line] = section["lines"]
    assert (line["difference_kwh"], line["difference_pct"]) == ("435.770", "197.06")
    db = sqlite3.connect(tmp_path / "var" / "recon-1.sqlite")
    roles = db.execute(
        "SELECT i.start_ms, i.end_ms, i.role FROM intervals i JOIN meters m ON m.id = i.meter_id"
        " WHERE m.name = 'M' AND i.start_ms >= ? AND i.start_ms < ? ORDER BY i.start_ms",
        (datetime_to_ms(change) - 1_800_000, datetime_to_ms(change) + 1_800_000),
    ).fetchall()
    db.close()
    half_hour = 1_800_000
    assert roles == [  # the hour's row is cut where the role changed
        (datetime_to_ms(change) - half_hour, datetime_to_ms(change), 0),
        (datetime_to_ms(change), datetime_to_ms(change) + half_hour, 1),
    ]


def test_no_main_meter_and_no_invoice_is_an_empty_reconciliation(tmp_path):
    write_site(tmp_path, role="billed")
    write_feed(tmp_path / "feed.jsonl")
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "feed.jsonl")
    section = report(tmp_path)["reconciliation"]
    assert section == {"tolerance_pct": "2", "main_meters": [], "lines": []}
    table = ok(tmp_path, *REPORT, "2026-10").out
    assert "reconciliation: no site_main meter and no invoice for this period" in table


@pytest.fixture
def ledger_copy(replayed: Path, tmp_path: Path) -> Path:
    return copied(replayed, tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--period", "2026-Q4", "--kwh", "1"),
            "--period 2026-Q4: an invoice is for one month; enter 2026-10, 2026-11 and 2026-12 "
            "one by one",
        ),
        (
            ("--period", "2026-10", "--kwh", "12345,678"),
            "--kwh '12345,678': write the decimals with a point: 12345.678",
        ),
        (
            ("--period", "2026-10", "--kwh", "1.2345"),
            "--kwh '1.2345': at most 3 decimals (the report prints kWh to 0.001)",
        ),
        (("--period", "2026-10", "--kwh", "0"), "--kwh '0': should be more than 0"),
        (("--period", "2026-10", "--kwh", "-5"), "--kwh '-5': should be more than 0"),
        (
            ("--period", "2026-10", "--kwh", "NaN"),
            "--kwh 'NaN': is not a number of kWh (write it like 12345.678)",
        ),
        (
            ("--period", "2026-10", "--kwh", "1e3"),
            "--kwh '1e3': is not a number of kWh (write it like 12345.678)",
        ),
        (
            ("--period", "2026-09", "--kwh", "1"),
            "nothing is accounted before 2026-10-01T00:00:00+05:00 (the ledger's accounting "
            "start): period 2026-09 ends at 2026-10-01T00:00:00+05:00",
        ),
        (("--period", "2026-13", "--kwh", "1"), "period '2026-13' is neither YYYY-MM nor YYYY-Qn"),
        (
            ("--period", "2026-10", "--kwh", "1", "--note", "two\nlines"),
            "--note: should be one line without control characters",
        ),
    ],
)
def test_an_invoice_that_is_no_invoice_is_refused_and_changes_nothing(ledger_copy, argv, message):
    before = snapshot(ledger_copy)
    assert_refused(levy(ledger_copy, "invoice", "-c", "site.toml", *argv), message)
    assert snapshot(ledger_copy) == before


def test_an_invoice_without_a_ledger_is_refused_and_makes_none(tmp_path):
    write_site(tmp_path)
    done = levy(tmp_path, "invoice", "-c", "site.toml", "--period", "2026-10", "--kwh", "1")
    assert_refused(done)
    assert "no ledger" in done.err
    assert not (tmp_path / "var").exists()


def test_an_invoice_is_entered_while_a_daemon_holds_the_ledger(ledger_copy):
    with Ledger(ledger_copy / "var" / "recon-1.sqlite"):  # the writer's lock, as a daemon holds it
        out = invoice(ledger_copy, "--period", "2026-10", "--kwh", "450.25")
    assert out.startswith("invoice 2026-10 grid: 450.250 kWh, entered 20")
    out = invoice(ledger_copy, "--period", "2026-10", "--kwh", "451")
    assert "; supersedes 450.250 kWh entered " in out
    assert [x["reference_kwh"] for x in report(ledger_copy)["reconciliation"]["lines"]] == [
        "446.050",
        "451.000",
    ]


def test_a_closed_month_takes_an_invoice_and_its_figures_stay(tmp_path):
    write_site(tmp_path)
    write_feed(tmp_path / "feed.jsonl")
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", "2026-11-01T00:20")
    ok(tmp_path, "close", "-c", "site.toml", "--period", "2026-10")
    filed = report(tmp_path)
    invoice(tmp_path, "--period", "2026-10", "--kwh", "600")
    document = report(tmp_path)
    assert document["closed"] is True
    assert {**document, "reconciliation": filed["reconciliation"]} == filed
    assert document["reconciliation"]["lines"][-1]["reference_kwh"] == "600.000"


def test_the_ledger_keeps_invoices_append_only(ledger_copy):
    invoice(ledger_copy, "--period", "2026-10", "--kwh", "1")
    db = sqlite3.connect(ledger_copy / "var" / "recon-1.sqlite")
    for statement in ("UPDATE invoices SET kwh = '2'", "DELETE FROM invoices"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()
