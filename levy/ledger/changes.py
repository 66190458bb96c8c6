"""What the ledger tells an exporter: the rows written or changed after a cursor, and each
output's cursor, kept in the ledger itself so a restored ledger and its cursor always agree.

Every commit stamps the rows it writes with one change number (`seq`, see `store.next_seq`); rows
are read in (seq, start, meter) order, so a cursor is a position in that order and a row that grew
after it was sent comes round again with its new number.

Only billed rows are exported: a site_main meter's rows (measured, never billed) would add its kWh
to every sum of `levy_interval` per supply that the dashboards draw. Its live state is still
exported (`levy_meter`), and the report reconciles its energy."""

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from levy.core.engine import Row
from levy.ledger.store import KINDS, SUPPLIES, LedgerError


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    seq: int
    start_ms: int
    meter_id: int


BEGINNING = Cursor(-1, 0, 0)
"""Before every row, those of a ledger older than change numbers (seq 0) included."""


@dataclass(frozen=True, slots=True)
class ChangedRow:
    cursor: Cursor
    row: Row


@dataclass(frozen=True, slots=True)
class ExportMark:
    """An output's progress: its cursor, when it last had nothing left to send (wall clock),
    and the earliest row start sent since its liabilities were last written (None: none)."""

    cursor: Cursor = BEGINNING
    caught_up_ms: int | None = None
    liability_from_ms: int | None = None


_CHANGED = (
    "SELECT i.seq, i.start_ms, i.meter_id, m.name, i.end_ms, i.kind, i.energy_mj, i.supply,"
    " i.rated_w, i.rate FROM intervals i JOIN meters m ON m.id = i.meter_id"
    " WHERE (i.seq, i.start_ms, i.meter_id) > (?, ?, ?) AND i.seq <= ? AND i.role = 0"
    " ORDER BY i.seq, i.start_ms, i.meter_id LIMIT ?"
)
_PENDING = (
    "SELECT COUNT(*) FROM intervals"
    " WHERE (seq, start_ms, meter_id) > (?, ?, ?) AND seq <= ? AND role = 0"
)
EVERY_CHANGE = 2**63 - 1
"""A bound past every change number: all rows after a cursor."""


def last_change(db: sqlite3.Connection) -> int:
    """The newest change number committed: what an export pass that starts now can see whole
    (a commit still being written takes a later one)."""
    return db.execute("SELECT COALESCE(MAX(seq), -1) FROM intervals").fetchone()[0]


def changed_rows(
    db: sqlite3.Connection, after: Cursor, limit: int, upto: int = EVERY_CHANGE
) -> list[ChangedRow]:
    """Up to `limit` rows after `after` and changed no later than change number `upto`, in
    cursor order. Every row has its rate: a writer rates a schema-1 ledger's rows when it opens
    it, and only writers export."""
    bound = (after.seq, after.start_ms, after.meter_id, upto, limit)
    rows = db.execute(_CHANGED, bound).fetchall()
    return [
        ChangedRow(
            Cursor(seq, start, meter_id),
            Row(name, start, end, KINDS[kind], energy, SUPPLIES[supply], rated_w, Decimal(rate)),
        )
        for seq, start, meter_id, name, end, kind, energy, supply, rated_w, rate in rows
    ]


def pending_rows(db: sqlite3.Connection, after: Cursor, upto: int = EVERY_CHANGE) -> int:
    return db.execute(_PENDING, (after.seq, after.start_ms, after.meter_id, upto)).fetchone()[0]


class ExportMarks:
    """The outputs' marks, on a connection of their own: the exporter writes them beside the
    engine's writer (WAL keeps both apart; each write is one short transaction)."""

    def __init__(self, path: Path) -> None:
        try:
            self.db = sqlite3.connect(
                path, isolation_level=None, timeout=30, check_same_thread=False
            )
            self.db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {path} cannot be read: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def read(self, target: str) -> ExportMark:
        row = self.db.execute(
            "SELECT seq, start_ms, meter_id, caught_up_ms, liability_from_ms FROM export_cursors"
            " WHERE target = ?",
            (target,),
        ).fetchone()
        if row is None:
            return ExportMark()
        return ExportMark(Cursor(*row[:3]), row[3], row[4])

    def save(self, target: str, mark: ExportMark) -> None:
        cursor = mark.cursor
        self.db.execute(
            "INSERT OR REPLACE INTO export_cursors"
            " (target, seq, start_ms, meter_id, caught_up_ms, liability_from_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                target,
                cursor.seq,
                cursor.start_ms,
                cursor.meter_id,
                mark.caught_up_ms,
                mark.liability_from_ms,
            ),
        )
