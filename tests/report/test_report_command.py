"""`levy-monitor report` as a user runs it: the table and the CSV carry everything the JSON does,
say plainly while the figures are provisional, and add up as printed; ids reach them as the site
wrote them; a period before the ledger's accounting start, or one that is no period, is one plain
line and exit 2, and leaves nothing behind.

The October demo (config/october-demo.*) is replayed once to November's first instant; the
figures are those of tests/app/test_scenario.py, worked out by hand there."""

import csv
import io
import json
from pathlib import Path

import pytest

from tests.app.scenario import write_site
from tests.report.adding import assert_adds_up
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


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    """The demo site's folder (site.toml, var/october-demo.sqlite), accounted to November's first
    instant by a replay that closed the ledger cleanly, so nothing else is beside it; no test
    runs in it."""
    folder = tmp_path_factory.mktemp("october")
    write_site(folder)
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", NOVEMBER)
    return folder


@pytest.fixture(scope="module")
def october(replayed: Path, tmp_path_factory) -> Path:
    """A copy for the tests that only read it."""
    return copy(replayed, tmp_path_factory.mktemp("reports") / "site")


@pytest.fixture
def pristine(replayed: Path, tmp_path: Path) -> Path:
    """A copy of its own that no reader has opened yet."""
    return copy(replayed, tmp_path / "site")


QUARTER_TABLE = """\
Levy report 2026-Q4 for site scenario-1
PROVISIONAL: not closed; accounted to 2026-11-01T00:00:00+05:00 of 2027-01-01T00:00:00+05:00

site       scenario-1
period     2026-Q4 (quarter)
zone       Asia/Almaty
bounds     2026-10-01T00:00:00+05:00 .. 2027-01-01T00:00:00+05:00 (end exclusive)
accounted  2026-10-01T00:00:00+05:00 .. 2026-11-01T00:00:00+05:00
status     open
due        declaration 2027-02-15, payment 2027-02-25

supply    rate from                  tenge/kWh   metered   deemed       kWh     tenge
grid      2024-01-01T00:00:00+06:00          2                     4533.100   9066.20
grid      total                                 3766.300  766.800  4533.100   9066.20
off_grid  2024-01-01T00:00:00+06:00          1                     3571.600   3571.60
off_grid  total                                 3569.600    2.000  3571.600   3571.60
TOTAL     site                                  7335.900  768.800  8104.700  12637.80

projected to 2027-01-01T00:00:00+05:00 (as of 2026-11-01T00:00:00+05:00):
supply          kWh     tenge
grid      13902.700  27805.40
off_grid  10598.800  10598.80
TOTAL     24501.500  38404.20
basis: figures to date plus the billed kWh per second of 2026-10-31T00:00:00+05:00 ..
  2026-11-01T00:00:00+05:00 (1 d: grid 153.600 kWh, off_grid 115.200 kWh) times the 61 d left to
  2027-01-01T00:00:00+05:00, per supply, at the rates in force in that time

reconciliation: no site_main meter and no invoice for this period

meter  supply          rated kW   metered   deemed       kWh    tenge
rig-1  grid                 3.6  2225.500    7.800  2233.300  4466.60
rig-3  grid                 2.5  1540.800   15.000  1555.800  3111.60
rig-4  grid                   1     0.000  744.000   744.000  1488.00
       grid total                3766.300  766.800  4533.100  9066.20
rig-2  off_grid               6  3569.600    2.000  3571.600  3571.60
       off_grid total            3569.600    2.000  3571.600  3571.60

deemed at rated power (contiguous intervals of one reason merged):
meter  supply    from                       to                         reason                 kWh
rig-1  grid      2026-10-10T12:00:00+05:00  2026-10-10T12:10:00+05:00  meter_fault          0.600
rig-1  grid      2026-10-15T00:00:00+05:00  2026-10-15T02:00:00+05:00  no_data              7.200
rig-2  off_grid  2026-10-20T07:50:00+05:00  2026-10-20T08:00:00+05:00  register_decrease    1.000
rig-2  off_grid  2026-10-25T15:50:00+05:00  2026-10-25T16:00:00+05:00  implausible          1.000
rig-3  grid      2026-10-05T00:00:00+05:00  2026-10-05T06:00:00+05:00  no_baseline         15.000
rig-4  grid      2026-10-01T00:00:00+05:00  2026-11-01T00:00:00+05:00  no_baseline        744.000

Rounding: kWh to 0.001 and tenge to the tiyn, half up; rate lines, meters and intervals
are allocated so that they add up to their totals as printed (README: Report fields).
"""


def test_the_quarter_table_carries_every_figure_and_says_it_is_provisional(october):
    done = ok(october, "report", "-c", "site.toml", "--period", "2026-Q4")
    assert done.out == QUARTER_TABLE
    assert done.err == ""


QUARTER_CSV = """\
\ufefffield,value
site,scenario-1
period,2026-Q4
timezone,Asia/Almaty
period_start,2026-10-01T00:00:00+05:00
period_end,2027-01-01T00:00:00+05:00
coverage_start,2026-10-01T00:00:00+05:00
coverage_end,2026-11-01T00:00:00+05:00
closed,false
provisional,not closed; accounted to 2026-11-01T00:00:00+05:00 of 2027-01-01T00:00:00+05:00
declaration_due,2027-02-15
payment_due,2027-02-25
tolerance_pct,2
projection_as_of,2026-11-01T00:00:00+05:00
projection_basis,"figures to date plus the billed kWh per second of 2026-10-31T00:00:00+05:00 .. 2026-11-01T00:00:00+05:00 (1 d: grid 153.600 kWh, off_grid 115.200 kWh) times the 61 d left to 2027-01-01T00:00:00+05:00, per supply, at the rates in force in that time"

section,supply,meter,rated_kw,from,to,reason,tenge_per_kwh,metered_kwh,deemed_kwh,kwh,fee_tenge,source,period,reference_kwh,billed_kwh,difference_kwh,difference_pct,reference_deemed_pct,check,entered_at,note
rate,grid,,,2024-01-01T00:00:00+06:00,,,2,,,4533.100,9066.20,,,,,,,,,,
supply,grid,,,,,,,3766.300,766.800,4533.100,9066.20,,,,,,,,,,
rate,off_grid,,,2024-01-01T00:00:00+06:00,,,1,,,3571.600,3571.60,,,,,,,,,,
supply,off_grid,,,,,,,3569.600,2.000,3571.600,3571.60,,,,,,,,,,
site,all,,,,,,,7335.900,768.800,8104.700,12637.80,,,,,,,,,,
projected,grid,,,2026-11-01T00:00:00+05:00,2027-01-01T00:00:00+05:00,,,,,13902.700,27805.40,,,,,,,,,,
projected,off_grid,,,2026-11-01T00:00:00+05:00,2027-01-01T00:00:00+05:00,,,,,10598.800,10598.80,,,,,,,,,,
projected,all,,,2026-11-01T00:00:00+05:00,2027-01-01T00:00:00+05:00,,,,,24501.500,38404.20,,,,,,,,,,
meter,grid,rig-1,3.6,,,,,2225.500,7.800,2233.300,4466.60,,,,,,,,,,
meter,off_grid,rig-2,6,,,,,3569.600,2.000,3571.600,3571.60,,,,,,,,,,
meter,grid,rig-3,2.5,,,,,1540.800,15.000,1555.800,3111.60,,,,,,,,,,
meter,grid,rig-4,1,,,,,0.000,744.000,744.000,1488.00,,,,,,,,,,
deemed,grid,rig-1,3.6,2026-10-10T12:00:00+05:00,2026-10-10T12:10:00+05:00,meter_fault,,,0.600,0.600,,,,,,,,,,,
deemed,grid,rig-1,3.6,2026-10-15T00:00:00+05:00,2026-10-15T02:00:00+05:00,no_data,,,7.200,7.200,,,,,,,,,,,
deemed,off_grid,rig-2,6,2026-10-20T07:50:00+05:00,2026-10-20T08:00:00+05:00,register_decrease,,,1.000,1.000,,,,,,,,,,,
deemed,off_grid,rig-2,6,2026-10-25T15:50:00+05:00,2026-10-25T16:00:00+05:00,implausible,,,1.000,1.000,,,,,,,,,,,
deemed,grid,rig-3,2.5,2026-10-05T00:00:00+05:00,2026-10-05T06:00:00+05:00,no_baseline,,,15.000,15.000,,,,,,,,,,,
deemed,grid,rig-4,1,2026-10-01T00:00:00+05:00,2026-11-01T00:00:00+05:00,no_baseline,,,744.000,744.000,,,,,,,,,,,
"""


def test_the_quarter_csv_is_a_header_block_then_one_row_per_figure_line(october):
    done = ok(october, "report", "-c", "site.toml", "--period", "2026-Q4", "--format", "csv")
    assert done.stdout == QUARTER_CSV.encode("utf-8")
    assert done.err == ""
    document = from_csv(done.out)
    as_json = ok(october, "report", "-c", "site.toml", "--period", "2026-Q4", "--format", "json")
    assert document == figures_of(json.loads(as_json.out))


def figures_of(document: dict) -> dict:
    """The JSON document but its evidence (the chain head and close records, for the filing
    pack): what the CSV and the table carry."""
    return {key: value for key, value in document.items() if key != "evidence"}


def from_csv(text: str) -> dict:
    """The JSON document rebuilt from the CSV alone: the CSV carries all of it."""
    assert text.startswith("\ufeff")
    head, table = text[1:].split("\n\n")
    fields = dict(list(csv.reader(io.StringIO(head)))[1:])
    tolerance = fields.pop("tolerance_pct")
    as_of, basis = fields.pop("projection_as_of", None), fields.pop("projection_basis", None)
    projection = None if as_of is None else {"as_of": as_of, "basis": basis, "by_supply": {}}
    reconciliation: dict = {"tolerance_pct": tolerance, "main_meters": [], "lines": []}
    document: dict = {
        **fields,
        "closed": {"true": True, "false": False}[fields["closed"]],
        "provisional": [] if fields["provisional"] == "no" else fields["provisional"].split("; "),
        "by_supply": {},
        "meters": [],
        "reconciliation": reconciliation,
        "projection": projection,
    }
    figures = ("kwh", "metered_kwh", "deemed_kwh", "fee_tenge")
    meters: dict[tuple[str, str, str], dict] = {}
    for row in csv.DictReader(io.StringIO(table)):
        section, supply = row["section"], row["supply"]
        if section == "rate":
            rate = {k: row[k] for k in ("from", "tenge_per_kwh", "kwh", "fee_tenge")}
            document["by_supply"].setdefault(supply, {"rates": []})["rates"].append(rate)
        elif section == "supply":
            document["by_supply"][supply].update({k: row[k] for k in figures})
        elif section == "site":
            document["totals"] = {k: row[k] for k in figures}
        elif section == "projected":
            assert projection is not None and row["from"] == as_of
            figured = {"kwh": row["kwh"], "fee_tenge": row["fee_tenge"]}
            if supply == "all":
                projection.update(figured)
            else:
                projection["by_supply"][supply] = figured
        elif section == "main_meter":
            main = {k: row[k] for k in ("meter", "supply", "kwh", "metered_kwh", "deemed_kwh")}
            reconciliation["main_meters"].append(main)
        elif section in ("reconciliation", "superseded"):
            reconciliation_from_csv(row, reconciliation["lines"])
        elif section == "meter":
            meter = {k: row[k] for k in ("meter", "supply", "rated_kw", *figures)}
            meter["deemed_intervals"] = []
            meters[(row["meter"], supply, row["rated_kw"])] = meter
            document["meters"].append(meter)
        else:
            assert section == "deemed" and row["kwh"] == row["deemed_kwh"]
            meters[(row["meter"], supply, row["rated_kw"])]["deemed_intervals"].append(
                {"start": row["from"], "end": row["to"], "reason": row["reason"], "kwh": row["kwh"]}
            )
    return document


def reconciliation_from_csv(row: dict, lines: list[dict]) -> None:
    """A reconciliation line, or an entry the last (invoice) line superseded."""
    entry = {
        "kwh": row["reference_kwh"],
        "entered_at": row["entered_at"],
        "note": row["note"] or None,
    }
    if row["section"] == "superseded":
        lines[-1]["invoice"]["superseded"].append(entry)
        return
    compared = ("supply", "source", "period", "reference_kwh", "billed_kwh", "difference_kwh")
    line = {k: row[k] for k in compared}
    line["difference_pct"] = row["difference_pct"] or None
    line["flagged"] = {"OVER TOLERANCE": True, "within tolerance": False}[row["check"]]
    if row["source"] == "site_main":
        line["reference_deemed_pct"] = row["reference_deemed_pct"] or None
    else:
        line["invoice"] = {**entry, "superseded": []}
    lines.append(line)


def test_the_json_says_why_it_is_provisional_and_keeps_what_the_exporter_reads(october):
    done = ok(october, "report", "-c", "site.toml", "--period", "2026-Q4", "--format", "json")
    document = json.loads(done.out)
    assert document["provisional"] == [
        "not closed",
        "accounted to 2026-11-01T00:00:00+05:00 of 2027-01-01T00:00:00+05:00",
    ]
    assert document["closed"] is False
    assert document["declaration_due"] == "2027-02-15"
    assert document["payment_due"] == "2027-02-25"
    for section in (document["totals"], *document["by_supply"].values()):
        assert set(section) >= {"kwh", "metered_kwh", "deemed_kwh", "fee_tenge"}
    assert_adds_up(document)
    month = json.loads(
        ok(october, "report", "-c", "site.toml", "--period", "2026-10", "--format", "json").out
    )
    assert month["provisional"] == ["not closed"]


def test_a_month_accounted_part_way_says_how_far_in_every_face(tmp_path):
    write_site(tmp_path)
    until = "2026-10-20T14:00:00+05:00"
    ok(tmp_path, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", until)
    line = f"not closed; accounted to {until} of {NOVEMBER}"
    report = ["report", "-c", "site.toml", "--period", "2026-10"]
    table = ok(tmp_path, *report).out.splitlines()
    assert table[1] == f"PROVISIONAL: {line}"
    assert f"accounted  2026-10-01T00:00:00+05:00 .. {until}" in table
    assert f"provisional,{line}" in ok(tmp_path, *report, "--format", "csv").out.splitlines()
    document = json.loads(ok(tmp_path, *report, "--format", "json").out)
    assert document["provisional"] == line.split("; ")
    assert document["coverage_end"] == until


def test_a_closed_month_is_final_in_every_face(tmp_path):
    write_site(tmp_path)
    ok(tmp_path, "replay", "-c", "site.toml", "-i", str(DEMO_FEED))
    ok(tmp_path, "close", "-c", "site.toml", "--period", "2026-10")
    report = ["report", "-c", "site.toml", "--period", "2026-10"]
    table = ok(tmp_path, *report).out
    assert "PROVISIONAL" not in table
    assert "status     closed" in table.splitlines()
    assert "provisional,no" in ok(tmp_path, *report, "--format", "csv").out.splitlines()
    document = json.loads(ok(tmp_path, *report, "--format", "json").out)
    assert document["closed"] is True and document["provisional"] == []


def site_head(site_id: str, ledger: str, start: str = "2026-10-01T00:00:00+05:00") -> str:
    """A site's TOML up to its meters; `site_id` as a TOML string."""
    ledger_path = f'path = "var/{ledger}.sqlite"'
    return f"[site]\nid = {site_id}\n\n[ledger]\n{ledger_path}\naccounting_start = {start}\n"


ODD_SITE = (
    site_head('"odd-1"', "odd")
    + """
[[rates]]
from = 2024-01-01
grid = "2"
off_grid = "1"

[[rates]]
from = 2026-10-16T00:30:00
grid = "2.5"
off_grid = "1.5"
"""
)
ODD_METERS = [  # id, supply, commissioned (every meter 1 W and never heard from: 0.001 kWh/h)
    ("A", "grid", None),
    ("B", "grid", "2026-10-16T00:45:00"),
    ("C1", "off_grid", "2026-10-01T00:30:00"),
    ("C2", "off_grid", "2026-10-01T01:30:00"),
    ("C3", "off_grid", "2026-10-01T02:45:00"),
]

ODD_TABLE = """\
supply    rate from                  tenge/kWh  metered  deemed    kWh  tenge
grid      2024-01-01T00:00:00+06:00          2                   0.360   0.72
grid      2026-10-16T00:30:00+05:00        2.5                   0.767   1.92
grid      total                                   0.000   1.127  1.127   2.64
off_grid  2024-01-01T00:00:00+06:00          1                   1.077   1.08
off_grid  2026-10-16T00:30:00+05:00        1.5                   1.150   1.73
off_grid  total                                   0.000   2.227  2.227   2.81
TOTAL     site                                    0.000   3.354  3.354   5.45

reconciliation: no site_main meter and no invoice for this period

meter  supply          rated kW  metered  deemed    kWh  tenge
A      grid               0.001    0.000   0.744  0.744   1.68
B      grid               0.001    0.000   0.383  0.383   0.96
       grid total                  0.000   1.127  1.127   2.64
C1     off_grid           0.001    0.000   0.744  0.744   0.94
C2     off_grid           0.001    0.000   0.742  0.742   0.94
C3     off_grid           0.001    0.000   0.741  0.741   0.93
       off_grid total              0.000   2.227  2.227   2.81
"""


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> Path:
    """Figures that do not round evenly: meters of 1 W (1 unit of 0.001 kWh an hour) started on
    half and quarter hours, and a rate step at 00:30."""
    folder = tmp_path_factory.mktemp("odd")
    meters = "".join(
        f'\n[[meters]]\nid = "{name}"\ntopic = "t/{name}"\nrated_kw = "0.001"\n'
        f'supply = "{supply}"\n' + (f"commissioned_at = {since}\n" if since else "")
        for name, supply, since in ODD_METERS
    )
    (folder / "site.toml").write_text(ODD_SITE + meters)
    (folder / "feed.jsonl").write_text(SILENT_LINE)
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", NOVEMBER)
    return folder


def test_figures_that_round_unevenly_add_up_as_printed_in_every_face(odd):
    """In units of 0.001 kWh and of the tiyn (each rounded alone, the sums would not hold):

    grid: A 360.5 h before the step + 383.5 after, B 383.25 after. Supply 1127.25 -> 1127.
    Lines 360.5 + 766.75: floors 360 + 766, the unit left to .75: 0.360 + 0.767 (alone:
    0.361 + 0.767 = 1.128). Fees 72.1 -> 72 and 191.6875 -> 192: 2.64. Meters A 744,
    B 383.25 -> 383; fees A 167.975, B 95.8125: floors 167 + 95, two units left: 1.68 + 0.96.
    off-grid: C1 743.5 h, C2 742.5, C3 741.25 (357.75 before the step). Supply 2227.25 -> 2227.
    Lines 1076.75 + 1150.5 -> 1.077 + 1.150 (alone: 1.077 + 1.151). Fees 107.675 -> 108 and
    172.575 -> 173: 2.81. Meters: floors 743 + 742 + 741, one unit to C1 (the first .5):
    0.744 + 0.742 + 0.741 (alone: 0.744 + 0.743 + 0.741 = 2.228). Fees 93.525, 93.425,
    93.3: floors 93 each, two units to C1 and C2: 0.94 + 0.94 + 0.93.
    site: the supplies' sums, 1.127 + 2.227 = 3.354 kWh and 2.64 + 2.81 = 5.45 tenge."""
    report = ["report", "-c", "site.toml", "--period", "2026-10"]
    table = ok(odd, *report).out
    assert ODD_TABLE in table
    document = json.loads(ok(odd, *report, "--format", "json").out)
    assert_adds_up(document)
    assert document["totals"] == {
        "kwh": "3.354",
        "metered_kwh": "0.000",
        "deemed_kwh": "3.354",
        "fee_tenge": "5.45",
    }
    assert [m["deemed_intervals"][0]["kwh"] for m in document["meters"]] == [
        "0.744",
        "0.383",
        "0.744",
        "0.742",
        "0.741",
    ]
    assert from_csv(ok(odd, *report, "--format", "csv").out) == figures_of(document)


TRICKY_SITE = site_head("""'=Экибастуз, "A"'""", "tricky")
TRICKY_METERS = ["=SUM(A1)", "-x", "+1", "@cmd", 'Риг 1, ряд "2"', "rig 5"]


@pytest.fixture(scope="module")
def tricky(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tricky")
    meters = "".join(
        f'\n[[meters]]\nid = \'{name}\'\ntopic = "t/{n}"\nrated_kw = "1"\n'
        for n, name in enumerate(TRICKY_METERS)
    )
    (folder / "site.toml").write_text(TRICKY_SITE + meters)
    (folder / "feed.jsonl").write_text(SILENT_LINE)
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", "2026-10-02T00:00")
    return folder


def test_ids_reach_every_face_as_written_and_no_cell_runs_as_a_formula(tricky):
    report = ["report", "-c", "site.toml", "--period", "2026-10"]
    document = json.loads(ok(tricky, *report, "--format", "json").out)
    assert document["site"] == '=Экибастуз, "A"'
    assert sorted(m["meter"] for m in document["meters"]) == sorted(TRICKY_METERS)

    text = ok(tricky, *report, "--format", "csv").out
    head, table = text.lstrip("\ufeff").split("\n\n")
    assert ["site", '\'=Экибастуз, "A"'] in list(csv.reader(io.StringIO(head)))
    rows = list(csv.DictReader(io.StringIO(table)))
    shown = {row["meter"] for row in rows if row["section"] == "meter"}
    assert shown == {"'=SUM(A1)", "'-x", "'+1", "'@cmd", 'Риг 1, ряд "2"', "rig 5"}
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
            if column in ("rated_kw", "metered_kwh", "deemed_kwh", "kwh", "fee_tenge") and cell:
                float(cell)  # a plain number, decimal point

    table_lines = ok(tricky, *report).out.splitlines()
    meter_rows = [line for line in table_lines if line.startswith(tuple(TRICKY_METERS))]
    assert len(meter_rows) == 2 * len(TRICKY_METERS)  # the meters' table and the deemed one
    columns = {line.index("  grid") for line in meter_rows[: len(TRICKY_METERS)]}
    assert len(columns) == 1, meter_rows  # Cyrillic ids align like the others


def test_ids_are_printed_in_utf_8_whatever_the_locale(tricky):
    report = ["report", "-c", "site.toml", "--period", "2026-10"]
    for fmt in ("table", "csv", "json"):
        done = ok(tricky, *report, "--format", fmt, PYTHONIOENCODING="ascii", LC_ALL="C")
        assert "Риг 1" in done.out and done.err == ""


@pytest.mark.parametrize("period", ["2020-01", "2026-09", "2026-Q3"])
def test_a_period_before_the_accounting_start_is_refused_and_leaves_nothing(pristine, period):
    ends = {"2020-01": "2020-02-01T00:00:00+06:00"}.get(period, "2026-10-01T00:00:00+05:00")
    before = snapshot(pristine)
    for fmt in ("table", "json", "csv"):
        done = levy(pristine, "report", "-c", "site.toml", "--period", period, "--format", fmt)
        assert_refused(
            done,
            "nothing is accounted before 2026-10-01T00:00:00+05:00 (the ledger's accounting "
            f"start): period {period} ends at {ends}",
        )
    assert snapshot(pristine) == before


def test_closing_a_period_before_the_accounting_start_is_refused(pristine):
    before = snapshot(pristine)
    done = levy(pristine, "close", "-c", "site.toml", "--period", "2020-01")
    assert_refused(done)
    assert "2026-10-01T00:00:00+05:00" in done.err and "nothing to close" in done.err
    assert snapshot(pristine) == before


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "2026-13", "2026-Q5", "October"])
def test_a_period_that_is_no_period_is_one_plain_line(pristine, period):
    before = snapshot(pristine)
    done = levy(pristine, "report", "-c", "site.toml", "--period", period, "--format", "csv")
    assert_refused(done)
    assert repr(period) in done.err
    assert snapshot(pristine) == before


def test_a_report_without_a_ledger_makes_none(tmp_path):
    write_site(tmp_path)
    before = snapshot(tmp_path)
    done = levy(tmp_path, "report", "-c", "site.toml", "--period", "2026-10")
    assert_refused(done)
    assert "no ledger" in done.err
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "var").exists()


def test_a_quarter_begun_before_the_start_is_reported_from_it_and_final_once_closed(tmp_path):
    """A ledger that starts on December 15: October and November have nothing to close, so the
    quarter is closed once December is."""
    (tmp_path / "site.toml").write_text(
        site_head('"late-1"', "late", "2026-12-15T00:00:00+05:00")
        + '\n[[meters]]\nid = "rig-1"\ntopic = "t/1"\nrated_kw = "1"\n'
    )
    (tmp_path / "feed.jsonl").write_text(SILENT_LINE)
    ok(tmp_path, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", "2027-01-01T00:20")
    report = ["report", "-c", "site.toml", "--period", "2026-Q4"]
    document = json.loads(ok(tmp_path, *report, "--format", "json").out)
    assert document["coverage_start"] == "2026-12-15T00:00:00+05:00"
    assert document["provisional"] == ["not closed"]
    assert document["totals"]["kwh"] == "408.000"  # 17 days x 24 h x 1 kW
    assert ok(tmp_path, "close", "-c", "site.toml", "--period", "2026-Q4").out == "closed 2026-12\n"
    document = json.loads(ok(tmp_path, *report, "--format", "json").out)
    assert document["closed"] is True and document["provisional"] == []
    table = ok(tmp_path, *report).out.splitlines()
    assert "PROVISIONAL" not in "\n".join(table)
    assert (
        "accounted  2026-12-15T00:00:00+05:00 (the ledger's accounting start) .. "
        "2027-01-01T00:00:00+05:00"
    ) in table
    assert_refused(
        levy(tmp_path, "report", "-c", "site.toml", "--period", "2026-11"),
        "nothing is accounted before 2026-12-15T00:00:00+05:00 (the ledger's accounting start): "
        "period 2026-11 ends at 2026-12-01T00:00:00+05:00",
    )
