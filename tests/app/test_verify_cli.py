"""`levy-monitor verify` as a user runs it, on the October demo replayed to November 1 00:20 and
October closed and signed: an untouched ledger verifies, and so does one rebuilt by replaying
its archive; each edit by hand with sqlite3 (as one who knows the encoding, and recomputes what
can be recomputed) exits 4 naming the record; writers refuse to build on an edited ledger."""

import gzip
import json
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from levy.core.units import datetime_to_ms
from levy.ledger.chain import Block, contribution, state_of
from levy.ledger.seal import seal
from levy.ledger.signing import load_signer
from levy.ledger.store import ClosedPeriod, Ledger
from tests.app.scenario import write_site
from tests.report.process import DEMO_FEED, Done, assert_refused, copy, levy, ok

UNTIL = "2026-11-01T00:20:00+05:00"
LEDGER = Path("var") / "october-demo.sqlite"
EXIT_TAMPERED = 4


def ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


OCTOBER_START = ms("2026-10-01T00:00:00+05:00")
FAULT_ROW = ms("2026-10-10T12:00:00+05:00")
"""rig-1's meter_fault row (12:00 to 12:10), in closed October."""
NOVEMBER_ROW = ms("2026-11-01T00:00:00+05:00")
"""rig-1's row of November (00:00 to 00:20), in the open month."""


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> Path:
    """The demo site with a signing key, replayed, October closed; no test runs in it."""
    folder = tmp_path_factory.mktemp("signed")
    config = write_site(folder)
    ok(folder, "keygen", "--out", "close.pem")
    config.write_text(config.read_text() + '\n[evidence]\nsigning_key_file = "close.pem"\n')
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", UNTIL)
    ok(folder, "close", "-c", "site.toml", "--period", "2026-10")
    return folder


@pytest.fixture
def site(signed: Path, tmp_path: Path) -> Path:
    return copy(signed, tmp_path / "site")


def verify(folder: Path, *args: str) -> Done:
    return levy(folder, "verify", "-c", "site.toml", *args)


def refused(done: Done, check: str, names: str) -> None:
    """Exit 4, the failing check named on stdout's last line and on stderr, no traceback."""
    assert done.status == EXIT_TAMPERED, (done.status, done.out, done.err)
    last = done.out.splitlines()[-1]
    assert last.startswith(f"NOT VERIFIED: {check}: "), last
    assert names in last, last
    assert done.err == f"levy-monitor: {last}\n"


def edit(folder: Path, *statements: str, params: tuple = ()) -> None:
    db = sqlite3.connect(folder / LEDGER)
    with db:
        for statement in statements:
            db.execute(statement, params)
    db.close()


def with_db(folder: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    db = sqlite3.connect(folder / LEDGER)
    with db:
        change(db)
    db.close()


INTERVAL = (
    "SELECT m.name, i.start_ms, i.end_ms, i.kind, i.energy_mj, i.supply, i.rated_w, i.rate,"
    " i.role FROM intervals i JOIN meters m ON m.id = i.meter_id WHERE m.name = ? AND i.start_ms = ?"
)


def reseal_interval(db: sqlite3.Connection, meter: str, start: int) -> None:
    """What one who knows seal.py's encoding does after an edit: recompute the row's seal."""
    values = db.execute(INTERVAL, (meter, start)).fetchone()
    db.execute(
        "UPDATE intervals SET seal = ? WHERE start_ms = ?"
        " AND meter_id = (SELECT id FROM meters WHERE name = ?)",
        (seal("intervals", values), start, meter),
    )


def add_energy(db: sqlite3.Connection, start: int, mj: int, totals: bool) -> None:
    """rig-1's row at `start` grows by `mj`, resealed, and with `totals` its total too."""
    db.execute(
        "UPDATE intervals SET energy_mj = energy_mj + ? WHERE meter_id = 1 AND start_ms = ?",
        (mj, start),
    )
    reseal_interval(db, "rig-1", start)
    if totals:
        kind, bucket = db.execute(
            "SELECT kind, start_ms FROM intervals WHERE meter_id = 1 AND start_ms = ?", (start,)
        ).fetchone()
        month = OCTOBER_START if bucket < NOVEMBER_ROW else NOVEMBER_ROW
        db.execute(
            "UPDATE totals SET energy_mj = energy_mj + ? WHERE meter_id = 1 AND kind = ?"
            " AND bucket_ms = ?",
            (mj, kind, month),
        )


def test_an_untouched_ledger_verifies_check_by_check(site: Path) -> None:
    done = verify(site)
    assert done.status == 0, done.err
    assert done.err == ""
    lines = done.out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "chain",
        "seals",
        "coverage",
        "totals",
        "closes",
        "state",
        "verified",
    ]
    assert "2887 interval rows, 4 meters, 1 close records" in lines[1]
    assert lines[4].startswith("closes: 2026-10: period digest, chain head block ")
    assert "signed by " in lines[4]
    document = json.loads(
        ok(site, "report", "-c", "site.toml", "--period", "2026-10", "--format", "json").out
    )
    head = document["evidence"]["chain_head"]
    assert lines[-1] == (
        f"verified: ledger {site / LEDGER}, chain head block {head['block']} {head['hash']}"
    )
    assert head["at"] == UNTIL
    closed = document["evidence"]["closed"]
    assert closed["signature"] and len(closed["public_key"]) == 64
    assert closed["chain_head"]["block"] < head["block"]


def test_the_archive_replays_to_the_same_figures_and_so_does_a_rebuilt_ledger(
    site: Path, tmp_path: Path
) -> None:
    done = verify(site, "--archive", str(DEMO_FEED))
    assert done.status == 0, done.err
    assert done.out.splitlines()[-2].startswith(
        f"archive: {DEMO_FEED} replayed into a scratch ledger: 2026-10, 2026-11 equal"
    )
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    write_site(rebuilt)
    ok(rebuilt, "replay", "-c", "site.toml", "-i", str(DEMO_FEED), "--until", UNTIL)
    assert ok(rebuilt, "verify", "-c", "site.toml", "--archive", str(DEMO_FEED)).status == 0


def test_a_feed_that_is_not_the_ledgers_names_the_first_figure_apart(
    site: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.jsonl"
    lines = gzip.decompress(DEMO_FEED.read_bytes()).decode().splitlines(keepends=True)
    other.write_text("".join(line for line in lines if "rig-3" not in line))
    refused(
        verify(site, "--archive", str(other), "--period", "2026-10"),
        "archive",
        "2026-10, meter rig-3 (grid, 2500 W), metered: the ledger has 1540.800000 kWh",
    )


def test_json_output(site: Path) -> None:
    done = verify(site, "--format", "json")
    assert done.status == 0
    document = json.loads(done.out)
    assert document["verified"] is True and document["failure"] is None
    assert document["checks"][0]["check"] == "chain"
    edit(site, "UPDATE meters SET rated_w = 3700 WHERE name = 'rig-1'")
    done = verify(site, "--format", "json")
    assert done.status == EXIT_TAMPERED
    document = json.loads(done.out)
    assert document["verified"] is False
    assert document["failure"]["check"] == "seals"
    assert "the meters row of rig-1" in document["failure"]["message"]


def test_an_intervals_energy_edited_by_hand_is_named_with_its_commit(site: Path) -> None:
    edit(
        site,
        "UPDATE intervals SET energy_mj = energy_mj + 1 WHERE meter_id = 1"
        f" AND start_ms = {FAULT_ROW}",
    )
    refused(
        verify(site),
        "seals",
        "the intervals row of meter rig-1 from 2026-10-10T12:00:00+05:00 to "
        "2026-10-10T12:10:00+05:00 (last written by commit 4, block ",
    )


def test_an_edit_with_its_seal_recomputed_is_caught_by_the_totals(site: Path) -> None:
    with_db(site, lambda db: add_energy(db, FAULT_ROW, 3_600_000_000, totals=False))
    refused(
        verify(site),
        "totals",
        "the total of meter rig-1, bucket from 2026-10-01T00:00:00+05:00, deemed meter_fault "
        "(grid, 3600 W, rate 2): the totals table has 0.600000 kWh (2160000000 mJ), its "
        "interval rows sum to 1.600000 kWh (5760000000 mJ)",
    )


def test_and_with_its_total_too_by_the_closed_months_period_digest(site: Path) -> None:
    with_db(site, lambda db: add_energy(db, FAULT_ROW, 3_600_000_000, totals=True))
    refused(verify(site), "closes", "the close record of 2026-10: its period digest")


def test_and_in_the_open_month_by_the_state_digest(site: Path) -> None:
    with_db(site, lambda db: add_energy(db, NOVEMBER_ROW, 3_600_000_000, totals=True))
    refused(verify(site), "state", "the state digest of the tables does not match the head")


def test_a_total_edited_by_hand(site: Path) -> None:
    edit(site, "UPDATE totals SET energy_mj = energy_mj - 1000 WHERE meter_id = 2 AND kind = 0")
    refused(verify(site), "totals", "the total of meter rig-2, bucket from 2026-10-01T00:00:00")


@pytest.mark.parametrize("column", ["accrued_ms", "baseline_ms", "baseline_value"])
def test_a_meter_state_edited_by_hand(site: Path, column: str) -> None:
    edit(site, f"UPDATE meters SET {column} = {column} - 1000 WHERE name = 'rig-2'")
    refused(verify(site), "seals", "the meters row of rig-2 does not match its seal")


def reseal_meter(db: sqlite3.Connection, name: str) -> None:
    columns = (
        "name, supply, rated_w, measure, start_ms, end_ms, accrued_ms, baseline_ms,"
        " baseline_value, faults, open_row_ms"
    )
    values = db.execute(f"SELECT {columns} FROM meters WHERE name = ?", (name,)).fetchone()
    db.execute("UPDATE meters SET seal = ? WHERE name = ?", (seal("meters", values), name))


def test_a_meter_state_resealed_is_caught_by_coverage_or_the_state_digest(site: Path) -> None:
    def accrued(db: sqlite3.Connection) -> None:
        db.execute("UPDATE meters SET accrued_ms = accrued_ms - 60000 WHERE name = 'rig-2'")
        reseal_meter(db, "rig-2")

    with_db(site, accrued)
    refused(
        verify(site),
        "coverage",
        "meter rig-2: its rows cover to 2026-11-01T00:20:00+05:00, but its meters row says it "
        "is accounted to 2026-11-01T00:19:00+05:00",
    )
    # October's figures hold, but the state digest covers the whole ledger, whatever the period
    refused(verify(site, "--period", "2026-10"), "state", "does not match the head")


def test_a_baseline_resealed_is_caught_by_the_state_digest(site: Path) -> None:
    def baseline(db: sqlite3.Connection) -> None:
        db.execute("UPDATE meters SET baseline_value = baseline_value - 5 WHERE name = 'rig-1'")
        reseal_meter(db, "rig-1")

    with_db(site, baseline)
    refused(verify(site), "state", "does not match the head")


def test_a_close_record_edited_by_hand(site: Path) -> None:
    edit(site, "UPDATE closed_periods SET closed_at_ms = closed_at_ms + 1")
    refused(verify(site), "seals", "the close record of 2026-10 does not match its seal")


def reseal_close(db: sqlite3.Connection) -> None:
    columns = (
        "period, start_ms, end_ms, closed_at_ms, chain_block, chain_hash, period_digest,"
        " signature, public_key"
    )
    values = db.execute(f"SELECT {columns} FROM closed_periods").fetchone()
    db.execute("UPDATE closed_periods SET seal = ?", (seal("closed_periods", values),))


def test_a_close_record_resealed_is_caught_by_its_signature(site: Path) -> None:
    def later(db: sqlite3.Connection) -> None:
        db.execute("UPDATE closed_periods SET closed_at_ms = closed_at_ms + 1")
        reseal_close(db)

    with_db(site, later)
    refused(
        verify(site),
        "closes",
        "the close record of 2026-10: its signature does not verify with the public key",
    )


def test_a_signature_of_another_key_is_caught_by_the_public_key(site: Path, tmp_path: Path) -> None:
    ok(tmp_path, "keygen", "--out", "other.pem")
    other_public = levy(tmp_path, "keygen", "--out", "other.pem")
    assert other_public.status == 2  # never overwritten
    mine = ok(site, "report", "-c", "site.toml", "--period", "2026-10", "--format", "json")
    public = json.loads(mine.out)["evidence"]["closed"]["public_key"]
    (tmp_path / "mine.hex").write_text(public + "\n")
    assert ok(site, "verify", "-c", "site.toml", "--public-key", str(tmp_path / "mine.hex"))
    stranger = load_signer(tmp_path / "other.pem").public_key
    (tmp_path / "stranger.hex").write_text(stranger)
    refused(
        verify(site, "--public-key", str(tmp_path / "stranger.hex")),
        "closes",
        f"the close record of 2026-10 is signed by key {public}, not by the key given ({stranger})",
    )

    def resigned(db: sqlite3.Connection) -> None:
        """A stranger's signature put in with its public key, and the record resealed."""
        row = db.execute(
            "SELECT period, start_ms, end_ms, closed_at_ms, chain_block, chain_hash,"
            " period_digest FROM closed_periods"
        ).fetchone()
        signer = load_signer(tmp_path / "other.pem")
        signature = signer.sign(ClosedPeriod(*row).signed_part("scenario-1"))
        db.execute(
            "UPDATE closed_periods SET signature = ?, public_key = ?",
            (signature, signer.public_key),
        )
        reseal_close(db)

    with_db(site, resigned)
    refused(
        verify(site, "--public-key", str(tmp_path / "mine.hex")),
        "closes",
        f"is signed by key {stranger}, not by the key given ({public})",
    )


def test_a_deleted_row_is_a_gap(site: Path) -> None:
    edit(site, f"DELETE FROM intervals WHERE meter_id = 1 AND start_ms = {FAULT_ROW}")
    refused(
        verify(site),
        "coverage",
        "meter rig-1: nothing covers 2026-10-10T12:00:00+05:00 to 2026-10-10T12:10:00+05:00",
    )


def test_an_inserted_overlapping_row_is_named(site: Path) -> None:
    copy_row = (
        "INSERT INTO intervals (start_ms, meter_id, end_ms, kind, energy_mj, supply, rated_w,"
        " rate, seq) SELECT start_ms + 60000, meter_id, end_ms, 0, 1, supply, rated_w, rate, seq"
        f" FROM intervals WHERE meter_id = 1 AND start_ms = {FAULT_ROW}"
    )
    edit(site, copy_row)
    refused(
        verify(site),
        "seals",
        "the intervals row of meter rig-1 from 2026-10-10T12:01:00+05:00 to "
        "2026-10-10T12:10:00+05:00 (last written by commit 4",
    )
    with_db(site, lambda db: reseal_interval(db, "rig-1", FAULT_ROW + 60000))
    refused(
        verify(site),
        "coverage",
        "meter rig-1: the row from 2026-10-10T12:01:00+05:00 to 2026-10-10T12:10:00+05:00 "
        "overlaps what is covered up to 2026-10-10T12:10:00+05:00",
    )


def test_a_chain_blocks_field_edited_by_hand(site: Path) -> None:
    edit(site, "UPDATE chain SET clock_ms = clock_ms + 1 WHERE number = 2")
    refused(verify(site), "chain", "chain block 2 (hour 2026-11-01T00:00:00+05:00, commits ")
    assert "does not match its hash" in verify(site).out


def test_a_block_rehashed_breaks_the_link_of_the_next(site: Path) -> None:
    def rehashed(db: sqlite3.Connection) -> None:
        """Block 1's `changes` replaced and its hash recomputed, as chain.py defines it."""
        row = db.execute(
            "SELECT number, hour_ms, first_commit, last_commit, commits, clock_ms, changes,"
            " state, prev FROM chain WHERE number = 1"
        ).fetchone()
        edited = Block(*row[:6], "00" * 32, *row[7:]).sealed()
        db.execute(
            "UPDATE chain SET changes = ?, hash = ? WHERE number = 1",
            (edited.changes, edited.hash),
        )

    with_db(site, rehashed)
    refused(verify(site), "chain", "chain block 2 (hour 2026-11-01T00:00:00+05:00")
    assert "does not link to block 1" in verify(site).out


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE rate_steps SET grid = '2.5'",
        "UPDATE meta SET value = 'Asia/Aqtobe' WHERE key = 'timezone'",
        "UPDATE meta SET value = '1790794800001' WHERE key = 'accounting_start_ms'",
    ],
)
def test_the_binding_edited_by_hand(site: Path, statement: str) -> None:
    edit(site, statement)
    refused(
        verify(site),
        "seals",
        "the binding (site id, time zone, accounting start, rate steps) does not match its seal",
    )


def test_the_running_state_digest_edited_by_hand(site: Path) -> None:
    edit(site, "UPDATE meta SET value = '0' WHERE key = 'state_digest'")
    refused(verify(site), "state", "the writer's running state digest (meta state_digest)")


def test_a_table_dropped_or_a_number_made_text_is_named_not_a_traceback(site: Path) -> None:
    edit(site, "DROP TABLE chain")
    refused(verify(site), "chain", "the ledger is not as levy-monitor writes it: no such table")


def test_a_deleted_close_record_is_caught_by_the_state_digest(site: Path) -> None:
    edit(site, "DELETE FROM closed_periods")
    refused(verify(site), "state", "an item was deleted or inserted")


def test_a_period_checks_its_own_rows_and_the_whole_chain(site: Path) -> None:
    edit(
        site,
        "UPDATE intervals SET energy_mj = energy_mj + 1 WHERE meter_id = 1"
        f" AND start_ms = {NOVEMBER_ROW}",
    )
    done = ok(site, "verify", "-c", "site.toml", "--period", "2026-10")
    assert done.out.splitlines()[-1].startswith(
        f"verified: ledger {site / LEDGER}, period 2026-10, chain head block "
    )
    refused(
        verify(site, "--period", "2026-11"),
        "seals",
        "the intervals row of meter rig-1 from 2026-11-01T00:00:00+05:00",
    )
    edit(site, "UPDATE chain SET commits = commits + 1 WHERE number = 1")
    refused(verify(site, "--period", "2026-10"), "chain", "chain block 1 ")


def test_writers_refuse_to_build_on_an_edit(site: Path) -> None:
    edit(site, "UPDATE meters SET accrued_ms = accrued_ms - 1000 WHERE name = 'rig-2'")
    for command in (["close", "--period", "2026-11"], ["replay", "-i", str(DEMO_FEED)]):
        done = levy(site, command[0], "-c", "site.toml", *command[1:])
        assert_refused(done)
        assert "the meters row of rig-2 does not match its seal" in done.err


def test_writers_refuse_to_resume_from_an_edited_open_row(site: Path) -> None:
    edit(
        site,
        "UPDATE intervals SET energy_mj = energy_mj + 1 WHERE meter_id = 1"
        f" AND start_ms = {NOVEMBER_ROW}",
    )
    done = levy(site, "replay", "-c", "site.toml", "-i", str(DEMO_FEED))
    assert_refused(done)
    assert (
        "the intervals row of meter rig-1 from 2026-11-01T00:00:00+05:00 to "
        "2026-11-01T00:20:00+05:00 does not match its seal"
    ) in done.err


def test_verify_reads_beside_a_writer_and_leaves_the_ledger_as_it_was(site: Path) -> None:
    before = (site / LEDGER).read_bytes()
    with Ledger(site / LEDGER):  # holds the writer's lock, as a running daemon does
        assert ok(site, "verify", "-c", "site.toml").status == 0
    assert (site / LEDGER).read_bytes() == before


def test_mistakes_are_one_plain_line(site: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    assert_refused(
        verify(site, "--public-key", str(junk)),
        f"--public-key: {junk} is not an Ed25519 public key (its 32 raw bytes, their hex, or PEM)",
    )
    assert_refused(verify(site, "--period", "2026-13"))
    (tmp_path / "empty").mkdir()
    assert_refused(verify(site, "--archive", str(tmp_path / "empty")))
    write_site(tmp_path)
    done = levy(tmp_path, "verify", "-c", "site.toml")
    assert_refused(done)
    assert "no ledger at" in done.err


def test_a_signing_key_that_is_none_stops_the_close_and_check_config(site: Path) -> None:
    (site / "close.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nnonsense\n")
    message = (
        f"evidence.signing_key_file: {site / 'close.pem'} is not an Ed25519 private key (PEM "
        "PKCS8, as `openssl genpkey -algorithm ed25519` writes, or its 32 raw bytes)"
    )
    assert_refused(levy(site, "close", "-c", "site.toml", "--period", "2026-11"))
    done = levy(site, "check-config", "-c", "site.toml")
    assert done.status == 2 and message in done.err
    assert "nonsense" not in done.err
    os.chmod(site / "close.pem", 0)
    if os.geteuid() != 0:
        assert "cannot read" in levy(site, "check-config", "-c", "site.toml").err


def test_keygen_writes_a_key_only_its_owner_reads(tmp_path: Path) -> None:
    done = ok(tmp_path, "keygen", "--out", "k.pem")
    assert done.out.startswith("wrote k.pem; public key ")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "k.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_the_head_blocks_state_is_the_digest_of_every_seal(site: Path) -> None:
    """What verify recomputes, recomputed here from the documented definition."""
    db = sqlite3.connect(site / LEDGER)
    seals = [
        bytes.fromhex(db.execute("SELECT value FROM meta WHERE key = 'binding_seal'").fetchone()[0])
    ]
    for table in ("meters", "intervals", "closed_periods", "blind_spans"):
        seals += [row[0] for row in db.execute(f"SELECT seal FROM {table}")]
    total = sum(map(contribution, seals)) % 2**2048
    (state,) = db.execute("SELECT state FROM chain ORDER BY number DESC LIMIT 1").fetchone()
    db.close()
    assert state == state_of(total)
