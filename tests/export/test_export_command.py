"""`levy-monitor export` against real databases: after a replayed month, what arrives adds up to
the report to the kWh's thousandth and the tiyn, ids arrive as written, and exporting again
changes nothing. A database that is down or refuses ends it with one plain line, the cursor
unmoved."""

import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from levy.ledger.store import Ledger
from tests.export.sites import (
    TRICKY_METERS,
    TRICKY_SITE,
    export,
    replayed_october,
    report,
    site_toml,
)
from tests.live.harness import free_port

KWH = Decimal("0.001")
TIYN = Decimal("0.01")


def rounded(value: float, places: Decimal) -> Decimal:
    return Decimal(repr(value)).quantize(places)


def sums(influx, db: str, group: str, period_filter: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Exported kWh and fee per `group` tag over October, rounded as the report rounds."""
    series = influx.series(
        f'SELECT sum("kwh") AS kwh, sum("fee_tenge") AS fee FROM "levy_interval" '
        f'WHERE {period_filter} GROUP BY "{group}"',
        db,
    )
    return {
        s["tags"][group]: (rounded(s["rows"][0]["kwh"], KWH), rounded(s["rows"][0]["fee"], TIYN))
        for s in series
    }


OCTOBER = "time >= '2026-09-30T19:00:00Z' AND time < '2026-10-31T19:00:00Z'"


def everything(influx, db: str) -> list:
    return influx.query("SELECT * FROM /levy_.*/ GROUP BY *", db)


@pytest.mark.parametrize("tricky", [False, True], ids=["plain", "tricky-ids"])
def test_an_exported_month_equals_the_report(influx, tmp_path: Path, tricky: bool) -> None:
    db = f"october_{int(tricky)}"
    influx.create_database(db)
    config = replayed_october(tmp_path, influx.proxy.url, db, tricky)
    done = export(config)
    assert done.returncode == 0, done.stderr
    assert "sent" in done.stdout
    expected = report(config, "2026-10")

    by_supply = sums(influx, db, "supply", OCTOBER)
    assert by_supply == {
        supply: (Decimal(section["kwh"]), Decimal(section["fee_tenge"]))
        for supply, section in expected["by_supply"].items()
    }
    by_meter = sums(influx, db, "meter", OCTOBER)
    assert by_meter == {
        m["meter"]: (Decimal(m["kwh"]), Decimal(m["fee_tenge"])) for m in expected["meters"]
    }
    if tricky:
        assert set(by_meter) == set(TRICKY_METERS.values())
        sites = influx.series('SHOW TAG VALUES FROM "levy_interval" WITH KEY = "site"', db)
        assert [row["value"] for row in sites[0]["rows"]] == [TRICKY_SITE]

    [liability] = influx.series(
        'SELECT last("fee_tenge") AS fee, last("kwh") AS kwh, last("deemed_kwh") AS deemed '
        'FROM "levy_liability" WHERE "supply" = \'all\' AND "period" = \'2026-10\'',
        db,
    )
    row = liability["rows"][0]
    assert rounded(row["fee"], TIYN) == Decimal(expected["totals"]["fee_tenge"])
    assert rounded(row["kwh"], KWH) == Decimal(expected["totals"]["kwh"])
    assert rounded(row["deemed"], KWH) == Decimal(expected["totals"]["deemed_kwh"])

    quarter = report(config, "2026-Q4")
    [due] = influx.series(
        'SELECT last("declaration_due") AS declaration, last("payment_due") AS payment, '
        'last("fee_tenge") AS fee FROM "levy_liability" '
        "WHERE \"supply\" = 'all' AND \"period\" = '2026-Q4'",
        db,
    )
    assert due["rows"][0]["declaration"] == quarter["declaration_due"]
    assert due["rows"][0]["payment"] == quarter["payment_due"]
    assert rounded(due["rows"][0]["fee"], TIYN) == Decimal(quarter["totals"]["fee_tenge"])

    before = everything(influx, db)
    assert export(config).returncode == 0
    assert everything(influx, db) == before
    again = export(config, "--all")
    assert again.returncode == 0, again.stderr
    assert everything(influx, db) == before


def test_victoria_metrics_takes_the_same_points(victoria, tmp_path: Path) -> None:
    config = replayed_october(tmp_path, victoria.url, "levy", tricky=True)
    done = export(config)
    assert done.returncode == 0, done.stderr
    expected = report(config, "2026-10")
    kwh: dict[str, Decimal] = defaultdict(Decimal)
    for serie in victoria.export('{__name__="levy_interval_kwh"}'):
        assert serie["metric"]["site"] == TRICKY_SITE
        kwh[serie["metric"]["meter"]] += sum(Decimal(repr(v)) for v in serie["values"])
    assert {meter: total.quantize(KWH) for meter, total in kwh.items()} == {
        m["meter"]: Decimal(m["kwh"]) for m in expected["meters"]
    }
    fees = victoria.export('{__name__="levy_liability_fee_tenge",supply="all",period="2026-10"}')
    assert Decimal(repr(fees[0]["values"][-1])).quantize(TIYN) == Decimal(
        expected["totals"]["fee_tenge"]
    )


def cursors(config: Path) -> list:
    with sqlite3.connect(config.parent / "var" / "october-demo.sqlite") as db:
        return db.execute("SELECT * FROM export_cursors").fetchall()


def one_plain_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_database_that_is_down_ends_it_plainly_with_the_cursor_unmoved(tmp_path: Path) -> None:
    config = replayed_october(tmp_path, f"http://127.0.0.1:{free_port()}", "levy")
    done = export(config)
    assert done.returncode == 3
    line = one_plain_line(done.stderr)
    assert "InfluxDB cannot be reached" in line and "run export again" in line
    assert cursors(config) == []


@pytest.mark.parametrize(
    ("token", "bucket", "said"),
    [("wrong", "refusing", "HTTP 401"), (None, "no_such_bucket", "HTTP 404")],
)
def test_a_database_that_refuses_ends_it_plainly(influx, tmp_path, token, bucket, said) -> None:
    influx.create_database("refusing")
    config = replayed_october(tmp_path, influx.proxy.url, bucket)
    done = export(config, **({"token": token} if token else {}))
    assert done.returncode == 2
    line = one_plain_line(done.stderr)
    assert said in line and "check [influx]" in line
    assert cursors(config) == []


def test_while_a_daemon_holds_the_ledger_it_exports_by_itself(influx, tmp_path: Path) -> None:
    config = replayed_october(tmp_path, influx.proxy.url, "levy")
    with Ledger(config.parent / "var" / "october-demo.sqlite"):
        done = export(config)
    assert done.returncode == 0
    assert "a daemon is running" in one_plain_line(done.stderr)
    assert cursors(config) == []


def test_without_influx_there_is_nowhere_to_export_to(tmp_path: Path) -> None:
    config = site_toml(tmp_path, "http://127.0.0.1:1", "levy")
    config.write_text(config.read_text().split("[influx]")[0])
    done = export(config)
    assert done.returncode == 2
    assert "no [influx] section" in one_plain_line(done.stderr)
