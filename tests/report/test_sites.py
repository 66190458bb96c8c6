"""`levy-monitor report -c a.toml -c b.toml`: each site reported from its own ledger exactly as it
reports alone, then a consolidated total per supply and per rate line that is the sum of the
sites' figures as printed; the mistakes an operator makes with several configurations are one
plain line and exit 2, and leave nothing behind.

The sites: the October demo (scenario-1, Asia/Almaty, grid and off-grid, one rate each), an
off-grid site in another zone with a rate step of its own (steppe-2), and two sites of one 1 W
meter accounted for 2 h 30 min (north-1, south-1), whose figures round up."""

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.app.scenario import write_site
from tests.report.process import (
    DEMO_FEED,
    SILENT_LINE,
    assert_refused,
    copy,
    levy,
    ok,
    snapshot,
)

NOVEMBER = "2026-11-01T00:00:00+05:00"

STEPPE = """\
[site]
id = "steppe-2"
timezone = "Asia/Qyzylorda"
supply = "off_grid"

[ledger]
path = "var/steppe.sqlite"
accounting_start = 2026-10-01T00:00:00

[[rates]]
from = 2024-01-01
grid = "2"
off_grid = "1"

[[rates]]
from = 2026-10-16
grid = "2.5"
off_grid = "1.5"

[[meters]]
id = "Ветряк-1"
topic = "steppe/1"
rated_kw = "2"
"""
"""One 2 kW off-grid meter never heard from: deemed at 2 kW all month."""


def tiny(site_id: str) -> str:
    return (
        f'[site]\nid = "{site_id}"\n\n[ledger]\npath = "var/{site_id}.sqlite"\n'
        "accounting_start = 2026-10-01T00:00:00+05:00\n\n"
        '[[meters]]\nid = "rig"\ntopic = "t/rig"\nrated_kw = "0.001"\n'
    )


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Path:
    """A folder of site folders, each with its configuration and ledger; no test runs in it."""
    root = tmp_path_factory.mktemp("sites")
    (root / "demo").mkdir()
    write_site(root / "demo")
    ok(root / "demo", "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", NOVEMBER)
    for name, text, until in [
        ("steppe", STEPPE, NOVEMBER),
        ("north", tiny("north-1"), "2026-10-01T02:30:00+05:00"),
        ("south", tiny("south-1"), "2026-10-01T02:30:00+05:00"),
    ]:
        (root / name).mkdir()
        (root / name / "site.toml").write_text(text)
        (root / name / "feed.jsonl").write_text(SILENT_LINE)
        ok(root / name, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", until)
    return root


@pytest.fixture(scope="module")
def folder(sites: Path, tmp_path_factory) -> Path:
    """A copy for the tests that only read it."""
    return copy(sites, tmp_path_factory.mktemp("reading") / "sites")


@pytest.fixture
def pristine(sites: Path, tmp_path: Path) -> Path:
    return copy(sites, tmp_path / "sites")


def configs(*names: str) -> list[str]:
    return [arg for name in names for arg in ("-c", f"{name}/site.toml")]


def report(folder: Path, *names: str, period: str = "2026-10", fmt: str = "json") -> str:
    return ok(folder, "report", *configs(*names), "--period", period, "--format", fmt).out


def test_two_sites_consolidate_to_the_sums_of_their_printed_figures(folder):
    """By hand. scenario-1: tests/app/test_scenario.py. steppe-2: 2 kW x 744 h = 1488 kWh
    deemed, 360 h (Oct 1-15) = 720 kWh at 1 tenge, 384 h = 768 kWh at 1.5 = 1152.00 tenge; its
    grid has no meter, so its grid lines are zero, and its 2.5 and 1.5 lines are its own.
    The 2024 step is each site's local midnight: +06:00 in Almaty then, +05:00 in Qyzylorda, one
    effective date, so one line, printed as the local wall time."""
    document = json.loads(report(folder, "demo", "steppe"))
    alone = [json.loads(report(folder, name)) for name in ("demo", "steppe")]
    assert document["period"] == "2026-10"
    assert document["sites"] == alone
    steppe = alone[1]["by_supply"]["off_grid"]
    assert steppe["rates"] == [
        {
            "from": "2024-01-01T00:00:00+05:00",
            "tenge_per_kwh": "1",
            "kwh": "720.000",
            "fee_tenge": "720.00",
        },
        {
            "from": "2026-10-16T00:00:00+05:00",
            "tenge_per_kwh": "1.5",
            "kwh": "768.000",
            "fee_tenge": "1152.00",
        },
    ]
    assert document["consolidated"] == {
        "sites": ["scenario-1", "steppe-2"],
        "timezones": ["Asia/Almaty", "Asia/Qyzylorda"],
        "closed": False,
        "provisional": ["scenario-1: not closed", "steppe-2: not closed"],
        # 8104.700 + 1488.000; 12637.80 + 1872.00
        "totals": {
            "kwh": "9592.700",
            "metered_kwh": "7335.900",
            "deemed_kwh": "2256.800",
            "fee_tenge": "14509.80",
        },
        "by_supply": {
            "grid": {
                "kwh": "4533.100",
                "metered_kwh": "3766.300",
                "deemed_kwh": "766.800",
                "fee_tenge": "9066.20",
                "rates": [
                    {
                        "from": "2024-01-01T00:00:00",
                        "tenge_per_kwh": "2",
                        "kwh": "4533.100",
                        "fee_tenge": "9066.20",
                    },
                    {
                        "from": "2026-10-16T00:00:00+05:00",
                        "tenge_per_kwh": "2.5",
                        "kwh": "0.000",
                        "fee_tenge": "0.00",
                    },
                ],
            },
            "off_grid": {
                "kwh": "5059.600",  # 3571.600 + 1488.000
                "metered_kwh": "3569.600",
                "deemed_kwh": "1490.000",  # 2.000 + 1488.000
                "fee_tenge": "5443.60",  # 3571.60 + 720.00 + 1152.00
                "rates": [
                    {
                        "from": "2024-01-01T00:00:00",
                        "tenge_per_kwh": "1",
                        "kwh": "4291.600",  # 3571.600 + 720.000
                        "fee_tenge": "4291.60",
                    },
                    {
                        "from": "2026-10-16T00:00:00+05:00",
                        "tenge_per_kwh": "1.5",
                        "kwh": "768.000",
                        "fee_tenge": "1152.00",
                    },
                ],
            },
        },
    }


def test_each_site_keeps_its_own_zone_and_bounds(folder):
    document = json.loads(report(folder, "demo", "steppe"))
    assert [(d["site"], d["timezone"], d["period_start"]) for d in document["sites"]] == [
        ("scenario-1", "Asia/Almaty", "2026-10-01T00:00:00+05:00"),
        ("steppe-2", "Asia/Qyzylorda", "2026-10-01T00:00:00+05:00"),
    ]
    table = report(folder, "demo", "steppe", fmt="table").splitlines()
    assert "zone       Asia/Almaty" in table and "zone       Asia/Qyzylorda" in table
    assert "Ветряк-1" in "\n".join(table)


def test_the_consolidation_adds_printed_figures_not_exact_ones(folder):
    """north-1 and south-1: 1 W for 2.5 h = 0.0025 kWh, printed 0.003 (half up); fee 0.005
    tenge, printed 0.01. Consolidated: 0.006 kWh and 0.02 tenge, what the two filings add up
    to (rounding the exact sum, 0.005 kWh and 0.01 tenge, would not match them)."""
    whole = json.loads(report(folder, "north", "south"))["consolidated"]
    figures = {"kwh": "0.006", "metered_kwh": "0.000", "deemed_kwh": "0.006", "fee_tenge": "0.02"}
    assert whole["totals"] == figures
    line = {"from": "2024-01-01T00:00:00+06:00", "tenge_per_kwh": "2", "kwh": "0.006"}
    assert whole["by_supply"]["grid"] == {**figures, "rates": [{**line, "fee_tenge": "0.02"}]}
    assert whole["timezones"] == ["Asia/Almaty"]


CONSOLIDATED_QUARTER = """\
Consolidated levy report 2026-Q4 over 2 sites
PROVISIONAL: north-1: not closed; accounted to 2026-10-01T02:30:00+05:00 of 2027-01-01T00:00:00+05:00
PROVISIONAL: south-1: not closed; accounted to 2026-10-01T02:30:00+05:00 of 2027-01-01T00:00:00+05:00

period  2026-Q4 (quarter)
status  open
due     declaration 2027-02-15, payment 2027-02-25

site     zone         status  metered  deemed    kWh  tenge
north-1  Asia/Almaty  open      0.000   0.003  0.003   0.01
south-1  Asia/Almaty  open      0.000   0.003  0.003   0.01
TOTAL                           0.000   0.006  0.006   0.02

supply    rate from                  tenge/kWh  metered  deemed    kWh  tenge
grid      2024-01-01T00:00:00+06:00          2                   0.006   0.02
grid      total                                   0.000   0.006  0.006   0.02
off_grid  2024-01-01T00:00:00+06:00          1                   0.000   0.00
off_grid  total                                   0.000   0.000  0.000   0.00
TOTAL     all sites                               0.000   0.006  0.006   0.02

Consolidated: the sums of the sites' figures as printed above, per rate line (matched by
supply, rate and effective date), per supply and in all (README: Several sites).
"""


def test_the_table_is_each_sites_report_then_the_consolidated_block(folder):
    table = report(folder, "north", "south", period="2026-Q4", fmt="table")
    alone = [report(folder, name, period="2026-Q4", fmt="table") for name in ("north", "south")]
    assert table == "\n".join([*alone, CONSOLIDATED_QUARTER])


def test_the_quarter_json_has_the_due_dates_once_for_all(folder):
    whole = json.loads(report(folder, "north", "south", period="2026-Q4"))["consolidated"]
    assert whole["due"] == {"declaration": "2027-02-15", "payment": "2027-02-25"}
    assert whole["closed"] is False
    assert whole["provisional"] == [
        f"{site}: {reason}"
        for site in ("north-1", "south-1")
        for reason in (
            "not closed",
            "accounted to 2026-10-01T02:30:00+05:00 of 2027-01-01T00:00:00+05:00",
        )
    ]


def test_the_csv_filters_back_to_each_site_and_marks_the_consolidated_rows(folder):
    text = report(folder, "demo", "steppe", fmt="csv")
    assert text.startswith("\ufeff")
    head, table = text[1:].split("\n\n")
    head_rows = list(csv.reader(io.StringIO(head)))
    rows = list(csv.reader(io.StringIO(table)))
    assert head_rows[0] == ["scope", "site", "field", "value"]
    assert rows[0][:3] == ["scope", "site", "section"]
    for name, site in [("demo", "scenario-1"), ("steppe", "steppe-2")]:
        alone_head, alone_table = report(folder, name, fmt="csv")[1:].split("\n\n")
        assert [r[2:] for r in head_rows if r[:2] == ["site", site]] == list(
            csv.reader(io.StringIO(alone_head))
        )[1:]
        assert [r[2:] for r in rows if r[:2] == ["site", site]] == list(
            csv.reader(io.StringIO(alone_table))
        )[1:]
    whole = json.loads(report(folder, "demo", "steppe"))["consolidated"]
    assert [r[2:] for r in head_rows if r[0] == "consolidated"] == [
        ["period", "2026-10"],
        ["closed", "false"],
        ["provisional", "scenario-1: not closed; steppe-2: not closed"],
    ]
    columns = rows[0]
    marked = [dict(zip(columns, r, strict=True)) for r in rows if r[0] == "consolidated"]
    assert all(r["site"] == "" for r in marked)
    assert [(r["section"], r["supply"], r["from"], r["kwh"], r["fee_tenge"]) for r in marked] == [
        ("rate", "grid", "2024-01-01T00:00:00", "4533.100", "9066.20"),
        ("rate", "grid", "2026-10-16T00:00:00+05:00", "0.000", "0.00"),
        ("supply", "grid", "", "4533.100", "9066.20"),
        ("rate", "off_grid", "2024-01-01T00:00:00", "4291.600", "4291.60"),
        ("rate", "off_grid", "2026-10-16T00:00:00+05:00", "768.000", "1152.00"),
        ("supply", "off_grid", "", "5059.600", "5443.60"),
        ("total", "all", "", "9592.700", "14509.80"),
    ]
    total = marked[-1]
    assert {k: total[k] for k in whole["totals"]} == whole["totals"]


def test_one_config_reports_as_before(folder):
    """The default and a single -c print what a site alone prints (tests/report pins it)."""
    for fmt in ("table", "json", "csv"):
        single = ok(
            folder / "demo", "report", "-c", "site.toml", "--period", "2026-Q4", "--format", fmt
        )
        default = ok(folder / "demo", "report", "--period", "2026-Q4", "--format", fmt)
        assert single.stdout == default.stdout
        assert "Consolidated" not in single.out and "consolidated" not in single.out


BEFORE_START = (
    "site steppe-2: nothing is accounted before 2026-10-01T00:00:00+05:00 (the ledger's "
    "accounting start): period 2026-09 ends at 2026-10-01T00:00:00+05:00"
)


def mistake(folder: Path, case: str) -> tuple[list[str], str]:
    """The arguments of one mistake, with the files it needs written into `folder`, and the
    line that refuses it."""
    demo = (folder / "demo" / "site.toml").read_text()
    ledger = folder / "demo" / "var" / "october-demo.sqlite"
    files = {
        "same-site-id": ("demo/twin.toml", demo.replace("october-demo.sqlite", "twin.sqlite")),
        "same-ledger": ("demo/other.toml", demo.replace('"scenario-1"', '"other-1"')),
        "config-error": ("steppe/bad.toml", STEPPE.replace('rated_kw = "2"', 'rated_kw = "-2"')),
    }
    if case in files:
        name, text = files[case]
        (folder / name).write_text(text)
    return {
        "twice": (
            ["demo/site.toml", "demo/site.toml"],
            "demo/site.toml is given twice: give each site once",
        ),
        "twice-spelled-otherwise": (
            ["demo/site.toml", "demo/../demo/site.toml"],
            "demo/../demo/site.toml is given twice (as demo/site.toml): give each site once",
        ),
        "same-site-id": (
            ["demo/site.toml", "demo/twin.toml"],
            "demo/site.toml and demo/twin.toml are both site scenario-1: give each site once",
        ),
        "same-ledger": (
            ["demo/site.toml", "demo/other.toml"],
            f"demo/site.toml and demo/other.toml share the ledger {ledger}: each site keeps "
            "its own",
        ),
        "config-error": (
            ["demo/site.toml", "steppe/bad.toml"],
            "steppe/bad.toml: meters[0].rated_kw: Input should be greater than 0",
        ),
        "no-file": (
            ["demo/site.toml", "nowhere/site.toml"],
            "nowhere/site.toml: cannot read: No such file or directory",
        ),
    }[case]


@pytest.mark.parametrize(
    "case",
    ["twice", "twice-spelled-otherwise", "same-site-id", "same-ledger", "config-error", "no-file"],
)
def test_the_operators_mistakes_are_one_plain_line_and_leave_nothing(pristine, case):
    tomls, message = mistake(pristine, case)
    before = snapshot(pristine)
    argv = [arg for toml in tomls for arg in ("-c", toml)]
    for fmt in ("table", "json", "csv"):
        done = levy(pristine, "report", *argv, "--period", "2026-10", "--format", fmt)
        assert_refused(done, message)
    assert snapshot(pristine) == before


def test_a_period_before_one_sites_start_is_refused_naming_it(pristine):
    """steppe-2 starts at Qyzylorda's October midnight; the demo too, so September is refused
    for the first of them in the order given."""
    before = snapshot(pristine)
    done = levy(pristine, "report", *configs("steppe", "demo"), "--period", "2026-09")
    assert_refused(done, BEFORE_START)
    assert snapshot(pristine) == before


def test_a_site_without_a_ledger_is_named_and_nothing_is_made(pristine):
    (pristine / "new").mkdir()
    (pristine / "new" / "site.toml").write_text(tiny("new-1"))
    before = snapshot(pristine)
    done = levy(pristine, "report", *configs("demo", "new"), "--period", "2026-10")
    assert_refused(
        done,
        f"site new-1: no ledger at {pristine / 'new' / 'var' / 'new-1.sqlite'}: nothing has been "
        "recorded for this site yet",
    )
    assert snapshot(pristine) == before


def test_a_ledger_sqlite_cannot_use_is_named_with_its_site(pristine):
    ledger = pristine / "demo" / "var" / "october-demo.sqlite"
    db = sqlite3.connect(ledger)
    db.execute("DROP TABLE totals")
    db.commit()
    db.close()
    unusable = f"the ledger cannot be used: no such table: totals (ledger {ledger})"
    assert_refused(levy(pristine, "report", *configs("demo"), "--period", "2026-10"), unusable)
    done = levy(pristine, "report", *configs("steppe", "demo"), "--period", "2026-10")
    assert_refused(done, f"site scenario-1: {unusable}")
