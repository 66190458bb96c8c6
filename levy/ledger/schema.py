"""The ledger's schema and its migrations, versioned with SQLite's user_version.

A migration is appended, never edited: a ledger at version N runs migrations N+1.. in order,
each in its own transaction, so an old ledger opens on a new release without losing a row.
"""

import sqlite3

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE meters (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        supply TEXT NOT NULL,
        rated_w INTEGER NOT NULL,
        measure TEXT NOT NULL,
        accrued_ms INTEGER NOT NULL,
        baseline_ms INTEGER,
        baseline_value INTEGER,
        faulty INTEGER NOT NULL DEFAULT 0,
        open_row_ms INTEGER
    );
    CREATE TABLE intervals (
        start_ms INTEGER NOT NULL,
        meter_id INTEGER NOT NULL REFERENCES meters(id),
        end_ms INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        energy_mj INTEGER NOT NULL,
        PRIMARY KEY (start_ms, meter_id)
    ) WITHOUT ROWID;
    CREATE INDEX intervals_deemed ON intervals (start_ms) WHERE kind != 0;
    CREATE TABLE totals (
        meter_id INTEGER NOT NULL REFERENCES meters(id),
        bucket_ms INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        energy_mj INTEGER NOT NULL,
        PRIMARY KEY (meter_id, bucket_ms, kind)
    ) WITHOUT ROWID;
    CREATE TABLE closed_periods (
        period TEXT PRIMARY KEY,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        closed_at_ms INTEGER NOT NULL
    );
    CREATE TABLE rejections (
        id INTEGER PRIMARY KEY,
        received_ms INTEGER NOT NULL,
        topic TEXT,
        meter TEXT,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        payload BLOB
    );
    CREATE INDEX rejections_received ON rejections (received_ms);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class LedgerVersionError(RuntimeError):
    """The ledger was written by a newer release than this one."""


def migrate(db: sqlite3.Connection) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise LedgerVersionError(
            f"the ledger has schema version {version}; this release reads up to {SCHEMA_VERSION}"
        )
    for number in range(version, SCHEMA_VERSION):
        db.executescript(
            f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
        )
