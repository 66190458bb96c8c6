"""Change numbers and export cursors: a row comes round again after it grows or is re-rated, and
only then; a cursor is a position in (seq, start, meter) order kept in the ledger."""

from decimal import Decimal
from pathlib import Path

from levy.ledger.changes import (
    BEGINNING,
    Cursor,
    ExportMark,
    ExportMarks,
    changed_rows,
    last_change,
    pending_rows,
)
from levy.ledger.rerate import store_schedule
from levy.ledger.store import Ledger
from tests.ledger.test_rerate import CALENDAR, ms, open_engine, read, schedule

BEFORE = schedule(("2024-01-01T00:00+06:00", "2"))


def started(path: Path) -> Ledger:
    ledger = Ledger(path)
    ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
    return ledger


def test_a_row_that_grows_comes_round_again_with_a_higher_number(tmp_path: Path) -> None:
    with started(tmp_path / "l.sqlite") as ledger:
        engine = open_engine(ledger, BEFORE)
        ledger.commit(engine.apply([read("2026-11-02T10:00+05:00", "100")]))
        ledger.commit(engine.apply([read("2026-11-02T10:10+05:00", "100.2")]))
        [first] = changed_rows(ledger.db, BEGINNING, 10)
        assert first.row.end_ms == ms("2026-11-02T10:10+05:00")
        assert changed_rows(ledger.db, first.cursor, 10) == []
        ledger.commit(engine.apply([read("2026-11-02T10:20+05:00", "100.4")]))
        [grown] = changed_rows(ledger.db, first.cursor, 10)
    assert grown.row.start_ms == first.row.start_ms
    assert grown.row.end_ms == ms("2026-11-02T10:20+05:00")
    assert grown.row.energy_mj == 2 * first.row.energy_mj
    assert grown.cursor.seq > first.cursor.seq


def test_a_batch_that_changes_no_row_moves_no_number(tmp_path: Path) -> None:
    with started(tmp_path / "l.sqlite") as ledger:
        engine = open_engine(ledger, BEFORE)
        ledger.commit(engine.apply([read("2026-11-02T10:00+05:00", "100")]))
        ledger.commit(engine.apply([read("2026-11-02T10:10+05:00", "100.2")]))
        [row] = changed_rows(ledger.db, BEGINNING, 10)
        ledger.commit(engine.apply([read("2026-11-02T10:10+05:00", "100.2")]))
        assert changed_rows(ledger.db, row.cursor, 10) == []


def test_rows_are_read_in_pages_in_cursor_order(tmp_path: Path) -> None:
    with started(tmp_path / "l.sqlite") as ledger:
        engine = open_engine(ledger, BEFORE)
        ledger.commit(engine.apply([read("2026-11-02T10:00+05:00", "100")]))
        hours = [f"2026-11-02T{h:02d}:00+05:00" for h in range(11, 16)]
        ledger.commit(engine.apply([read(h, str(100 + n)) for n, h in enumerate(hours, 1)]))
        cursor, seen = BEGINNING, []
        while page := changed_rows(ledger.db, cursor, 2):
            seen += page
            cursor = page[-1].cursor
        assert pending_rows(ledger.db, BEGINNING) == 5
        assert pending_rows(ledger.db, cursor) == 0
    assert [c.cursor for c in seen] == sorted(c.cursor for c in seen)
    assert [c.row.start_ms for c in seen] == [ms(h) - 3_600_000 for h in hours]


def test_a_bound_leaves_later_changes_for_later(tmp_path: Path) -> None:
    with started(tmp_path / "l.sqlite") as ledger:
        assert last_change(ledger.db) == -1
        engine = open_engine(ledger, BEFORE)
        ledger.commit(engine.apply([read("2026-11-02T10:00+05:00", "100")]))
        ledger.commit(engine.apply([read("2026-11-02T11:00+05:00", "101")]))
        upto = last_change(ledger.db)
        ledger.commit(engine.apply([read("2026-11-02T12:00+05:00", "102")]))
        bounded = changed_rows(ledger.db, BEGINNING, 10, upto)
        assert [c.row.start_ms for c in bounded] == [ms("2026-11-02T10:00+05:00")]
        assert pending_rows(ledger.db, BEGINNING, upto) == 1
        assert pending_rows(ledger.db, BEGINNING) == 2
        assert last_change(ledger.db) > upto


def test_a_re_rated_row_comes_round_again_with_its_new_rate(tmp_path: Path) -> None:
    after = schedule(("2024-01-01T00:00+06:00", "2"), ("2026-11-02T10:30+05:00", "3"))
    with started(tmp_path / "l.sqlite") as ledger:
        engine = open_engine(ledger, BEFORE)
        ledger.commit(
            engine.apply(
                [read("2026-11-02T10:00+05:00", "100"), read("2026-11-02T11:00+05:00", "101.2")]
            )
        )
        [sent] = changed_rows(ledger.db, BEGINNING, 10)
        store_schedule(ledger, CALENDAR, after, ms("2026-11-02T10:30+05:00"))
        again = changed_rows(ledger.db, sent.cursor, 10)
    assert [(c.row.start_ms, c.row.end_ms, c.row.rate) for c in again] == [
        (ms("2026-11-02T10:00+05:00"), ms("2026-11-02T10:30+05:00"), Decimal(2)),
        (ms("2026-11-02T10:30+05:00"), ms("2026-11-02T11:00+05:00"), Decimal(3)),
    ]


def test_each_target_keeps_its_own_mark_in_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    started(path).close()
    marks = ExportMarks(path)
    assert marks.read("a") == ExportMark()
    mark = ExportMark(Cursor(3, 100, 1), caught_up_ms=5, liability_from_ms=100)
    marks.save("a", mark)
    marks.close()
    again = ExportMarks(path)
    assert again.read("a") == mark
    assert again.read("b") == ExportMark()
    again.close()
