"""The pack's days, worked out by hand: local days of the site's zone (a day the clocks go back
is 25 hours long), each supply's days allocated from its printed figures so that they add up to
them, where rounding each day alone would not."""

from pathlib import Path

from tests.report.pages import read_tables
from tests.report.process import SILENT_LINE, ok

SITE = """\
[site]
id = "{site}"
timezone = "{zone}"

[ledger]
path = "var/{site}.sqlite"
accounting_start = {start}
"""


def meter(name: str, since: str | None = None) -> str:
    """A 1 W meter never heard from: deemed 0.001 kWh an hour from its start."""
    commissioned = f"commissioned_at = {since}\n" if since else ""
    return f'\n[[meters]]\nid = "{name}"\ntopic = "t/{name}"\nrated_kw = "0.001"\n{commissioned}'


def days_of(folder: Path, toml: str, until: str) -> dict[str, list[str]]:
    """The pack's days table, by day, after a replay that hears from no meter."""
    (folder / "site.toml").write_text(toml)
    (folder / "feed.jsonl").write_text(SILENT_LINE)
    ok(folder, "replay", "-c", "site.toml", "-i", "feed.jsonl", "--until", until)
    page = ok(folder, "report", "-c", "site.toml", "--period", "2026-10", "--format", "html")
    tables = read_tables(page.out).tables
    (days,) = [table for table in tables if table[0][:2] == ["day", "grid metered"]]
    return {row[0]: row[1:] for row in days[1:]}


def test_days_are_local_days_and_the_day_the_clocks_go_back_has_25_hours(tmp_path):
    toml = SITE.format(site="berlin-1", zone="Europe/Berlin", start="2026-10-01T00:00:00+02:00")
    days = days_of(tmp_path, toml + meter("A"), "2026-11-01T00:00:00+01:00")
    assert len(days) == 32  # 31 days and the total
    assert days["2026-10-25"] == ["0.000", "0.025", "0.000", "0.000", "0.025"]
    assert days["2026-10-01"] == days["2026-10-31"] == ["0.000", "0.024", "0.000", "0.000", "0.024"]
    assert days["TOTAL"] == ["0.000", "0.745", "0.000", "0.000", "0.745"]  # 31 x 24 + 1 hours


def test_days_add_up_to_the_printed_total_where_rounding_each_alone_would_not(tmp_path):
    """In units of 0.001 kWh: A all month (24 a day), B from Oct 16 00:30 and C from Oct 20
    00:30. The grid's 744 + 383.5 + 287.5 = 1415 exactly. Oct 16 is 24 + 23.5 = 47.5 and Oct 20
    is 24 + 24 + 23.5 = 71.5: each half up would print 48 + 72 and the days would add up to
    1416; by largest remainder the floors (47 + 71) leave one unit, to the earlier tie."""
    toml = SITE.format(site="halves-1", zone="Asia/Almaty", start="2026-10-01T00:00:00+05:00")
    meters = meter("A") + meter("B", "2026-10-16T00:30:00") + meter("C", "2026-10-20T00:30:00")
    days = days_of(tmp_path, toml + meters, "2026-11-01T00:00:00+05:00")
    deemed = {day: row[1] for day, row in days.items()}
    assert deemed["2026-10-15"] == "0.024"
    assert deemed["2026-10-16"] == "0.048"
    assert deemed["2026-10-17"] == "0.048"
    assert deemed["2026-10-20"] == "0.071"
    assert deemed["2026-10-21"] == "0.072"
    assert deemed["TOTAL"] == "1.415"
    units = [int(value.replace(".", "")) for day, value in deemed.items() if day != "TOTAL"]
    assert sum(units) == 1415
