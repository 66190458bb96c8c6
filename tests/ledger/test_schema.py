"""The ledger's schema is versioned: a new ledger migrates to the current version, a ledger from a
newer release is refused with a plain message, and a batch commits all or nothing."""

import sqlite3
from decimal import Decimal

import pytest

from levy.core.engine import Changes, Row, TotalKey
from levy.core.model import Measure, RejectReason, Supply
from levy.core.rules import MeterSpec, MeterState
from levy.ledger.schema import SCHEMA_VERSION, LedgerVersionError
from levy.ledger.store import Ledger, LedgerError, RejectionRecord
from tests.ledger.test_chain import verified


def test_a_new_ledger_is_at_the_current_version_in_wal_mode(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_everything(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.bind_site("s", 1000, "Asia/Almaty")
    ledger.close()
    again = Ledger(tmp_path / "l.sqlite")
    assert again.bind_site("s", None, "Asia/Almaty") == 1000


def test_a_ledger_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "l.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerVersionError, match="this release reads up to"):
        Ledger(path)


def test_a_file_that_is_not_a_ledger_is_a_plain_error(tmp_path):
    path = tmp_path / "l.sqlite"
    path.write_text("not a database, just text that is long enough to be read as a header" * 20)
    with pytest.raises(LedgerError, match=r"l\.sqlite"):
        Ledger(path)


def test_a_batch_commits_all_or_nothing(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.bind_site("s", 0, "Asia/Almaty")
    ledger.register_meters([MeterSpec("m", 1000, Supply.GRID, Measure.ENERGY, 0)])
    bad = Changes(
        rows={("m", 0): Row("m", 0, 10, None, 5, Supply.GRID, 1000, Decimal(2))},
        states={"m": MeterState(10), "ghost": MeterState(10)},
    )
    with pytest.raises(KeyError):
        ledger.commit(bad)
    assert ledger.db.execute("SELECT COUNT(*) FROM intervals").fetchone()[0] == 0
    states, _ = ledger.states()
    assert states["m"] == MeterState(0, measure=Measure.ENERGY)


def test_rejections_are_logged_with_their_reason(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    record = RejectionRecord(5, RejectReason.NON_FINITE, "energy_kwh is NaN", "t/x", "m", b"{}")
    ledger.commit(Changes(), [record])
    assert ledger.rejection_counts() == {"non_finite": 1}


def test_a_second_writer_is_refused_while_readers_are_welcome(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger(path):
        with pytest.raises(LedgerError, match="in use by another levy-monitor"):
            Ledger(path)
        with Ledger(path, writer=False) as reader:
            assert reader.clock_ms == 0
    with Ledger(path):
        pass


def test_registering_meters_as_they_are_writes_nothing_and_a_change_reseals_only_it(tmp_path):
    """A restart of a large site registers every configured meter: those stored as configured
    cost no write and no seal, and a changed one is written, resealed and chained."""
    path = tmp_path / "l.sqlite"
    meters = [MeterSpec(f"m{n}", 1000, Supply.GRID, Measure.ENERGY, 0) for n in range(3)]
    with Ledger(path) as ledger:
        ledger.bind_site("s", 0, "Asia/Almaty")
        ledger.register_meters(meters)
        head = ledger.chain_head()
        seals = dict(ledger.db.execute("SELECT name, seal FROM meters"))
    with Ledger(path) as ledger:
        ledger.register_meters(meters)
        ledger.forget_meters([])
        assert ledger.chain_head() == head
        ledger.register_meters([*meters[:2], MeterSpec("m2", 2000, Supply.GRID, None, 0)])
        after = dict(ledger.db.execute("SELECT name, seal FROM meters"))
        assert ledger.chain_head() != head
        assert ledger.meters()["m2"].rated_w == 2000
    assert {name for name in seals if seals[name] != after[name]} == {"m2"}
    assert verified(path)  # every check passes: seals, chain and state digest agree


def test_a_commit_that_fails_leaves_the_writer_in_step_with_its_ledger(tmp_path):
    """The writer keeps each meter's last row in memory (its seal is not looked up again): a
    batch rolled back must not leave it there, or the next commit would chain a wrong digest."""
    path = tmp_path / "l.sqlite"

    month = 1_793_473_200_000  # 2026-11-01T00:00+05:00, a bucket's start in Asia/Almaty

    def grown(from_ms: int, to_ms: int, ghost: bool = False) -> Changes:
        row = Row("m", month, month + to_ms, None, to_ms, Supply.GRID, 1000, Decimal(2))
        states = {"m": MeterState(month + to_ms)}
        states |= {"ghost": MeterState(month + to_ms)} if ghost else {}
        total = TotalKey("m", None, month, Supply.GRID, 1000, Decimal(2))
        return Changes(rows={("m", month): row}, states=states, totals={total: to_ms - from_ms})

    with Ledger(path) as ledger:
        ledger.bind_site("s", month, "Asia/Almaty")
        ledger.register_meters([MeterSpec("m", 1000, Supply.GRID, Measure.ENERGY, month)])
        ledger.commit(grown(0, 10))
        with pytest.raises(KeyError):
            ledger.commit(grown(10, 20, ghost=True))
        ledger.commit(grown(10, 30))
        assert ledger.db.execute("SELECT energy_mj FROM intervals").fetchall() == [(30,)]
    assert verified(path)


def test_a_reader_sees_the_meter_states_committed_after_it_opened(tmp_path):
    """The daemon's exporter keeps one reader open: its meters' states must not be those of
    the moment it opened."""
    path = tmp_path / "l.sqlite"
    with Ledger(path) as writer:
        writer.bind_site("s", 0, "Asia/Almaty")
        writer.register_meters([MeterSpec("m", 1000, Supply.GRID, Measure.ENERGY, 0)])
        with Ledger(path, writer=False) as reader:
            writer.commit(Changes(states={"m": MeterState(10, measure=Measure.ENERGY)}))
            states, _ = reader.states()
            assert states["m"].accrued_ms == 10
