"""The utility's invoices: the kWh it billed the site for a month and supply, entered by hand and
reconciled against the billed meters. Append-only (the schema refuses an update or a delete): a
corrected invoice is a new entry, the latest counts and the earlier ones stay listed.

An invoice is no part of the filed figure and no engine state, so a closed month takes one, and
it is written beside a running daemon on a connection of its own, in one short transaction (WAL
keeps it apart from the engine's writer, as the exporter's cursors are)."""

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from levy.core.model import Supply
from levy.ledger.store import SUPPLIES, SUPPLY_CODE, LedgerError

BUSY_TIMEOUT_S = 30
"""How long an entry waits for a daemon's commit to finish."""


@dataclass(frozen=True, slots=True)
class Invoice:
    period: str
    """The month, `2026-10`."""
    supply: Supply
    kwh: Decimal
    entered_ms: int
    note: str | None = None


def read_invoices(db: sqlite3.Connection, months: Iterable[str]) -> list[Invoice]:
    """The entries for `months`, in the order they were entered (the last of a month and supply
    counts)."""
    labels = list(months)
    marks = ", ".join("?" * len(labels))
    query = (
        "SELECT period, supply, kwh, entered_ms, note FROM invoices"
        f" WHERE period IN ({marks}) ORDER BY id"
    )
    return [
        Invoice(period, SUPPLIES[supply], Decimal(kwh), entered_ms, note)
        for period, supply, kwh, entered_ms, note in db.execute(query, labels)
    ]


def enter_invoice(path: Path, invoice: Invoice) -> list[Invoice]:
    """Append `invoice`; returns the entries of its month and supply before it, oldest first."""
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"ledger {path} cannot be written: {exc}") from exc
    try:
        db.execute("PRAGMA synchronous = FULL")
        db.execute("BEGIN IMMEDIATE")
        earlier = [
            entry for entry in read_invoices(db, [invoice.period]) if entry.supply is invoice.supply
        ]
        db.execute(
            "INSERT INTO invoices (period, supply, kwh, entered_ms, note) VALUES (?, ?, ?, ?, ?)",
            (
                invoice.period,
                SUPPLY_CODE[invoice.supply],
                str(invoice.kwh),
                invoice.entered_ms,
                invoice.note,
            ),
        )
        db.execute("COMMIT")
    finally:
        db.close()
    return earlier
