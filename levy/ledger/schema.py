"""The ledger's schema and its migrations, versioned with SQLite's user_version.

A migration is appended, never edited: a ledger at version N runs migrations N+1.. in order,
each in its own transaction, so an old ledger opens on a new release without losing a row. A
migration is SQL, or a function for what SQL cannot do (hashing) run in the same transaction.
"""

import sqlite3
from collections.abc import Callable

from levy.ledger.items import seal_as_found

SEALS = (
    "ALTER TABLE intervals ADD COLUMN seal BLOB",
    "ALTER TABLE meters ADD COLUMN seal BLOB",
    "ALTER TABLE blind_spans ADD COLUMN seal BLOB",
    "ALTER TABLE closed_periods ADD COLUMN chain_block INTEGER",
    "ALTER TABLE closed_periods ADD COLUMN chain_hash TEXT",
    "ALTER TABLE closed_periods ADD COLUMN period_digest TEXT",
    "ALTER TABLE closed_periods ADD COLUMN signature TEXT",
    "ALTER TABLE closed_periods ADD COLUMN public_key TEXT",
    "ALTER TABLE closed_periods ADD COLUMN seal BLOB",
    """CREATE TABLE chain (
        number INTEGER PRIMARY KEY,
        hour_ms INTEGER NOT NULL,
        first_commit INTEGER NOT NULL,
        last_commit INTEGER NOT NULL,
        commits INTEGER NOT NULL,
        clock_ms INTEGER NOT NULL,
        changes TEXT NOT NULL,
        state TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
)


def seal_the_record(db: sqlite3.Connection) -> None:
    """6: tamper evidence (chain.py, seal.py). Every item carries its seal, a close record its
    chain head, period digest and signature, and the chain its blocks; what the ledger held
    before is sealed as found, as block 1."""
    for statement in SEALS:
        db.execute(statement)
    seal_as_found(db)


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
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
    # 2: the record does not move. Rows and totals carry the supply, rated power and rate they
    # were billed at (filled from the meters' stored values; rates at the first writer's open,
    # from the schedule that billed them); the rate schedule is stored; a meter keeps the times
    # of its standing faults, what it measures, and its accounting span; a rejection is logged once.
    """
    CREATE TABLE meters_v2 (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        supply TEXT NOT NULL,
        rated_w INTEGER NOT NULL,
        measure TEXT,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        accrued_ms INTEGER NOT NULL,
        baseline_ms INTEGER,
        baseline_value INTEGER,
        faults TEXT,
        open_row_ms INTEGER
    );
    INSERT INTO meters_v2 SELECT
        m.id, m.name, m.supply, m.rated_w,
        CASE WHEN m.baseline_ms IS NULL THEN NULL ELSE m.measure END,
        COALESCE((SELECT MIN(i.start_ms) FROM intervals i WHERE i.meter_id = m.id), m.accrued_ms),
        NULL, m.accrued_ms, m.baseline_ms, m.baseline_value,
        CASE WHEN m.faulty THEN CAST(COALESCE(m.baseline_ms, m.accrued_ms) AS TEXT) END,
        m.open_row_ms
    FROM meters m;
    DROP TABLE meters;
    ALTER TABLE meters_v2 RENAME TO meters;
    ALTER TABLE intervals ADD COLUMN supply INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE intervals ADD COLUMN rated_w INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE intervals ADD COLUMN rate TEXT;
    UPDATE intervals SET
        supply = (SELECT m.supply = 'off_grid' FROM meters m WHERE m.id = intervals.meter_id),
        rated_w = (SELECT m.rated_w FROM meters m WHERE m.id = intervals.meter_id);
    CREATE TABLE totals_v2 (
        meter_id INTEGER NOT NULL REFERENCES meters(id),
        bucket_ms INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        supply INTEGER NOT NULL,
        rated_w INTEGER NOT NULL,
        rate TEXT,
        energy_mj INTEGER NOT NULL,
        PRIMARY KEY (meter_id, bucket_ms, kind, supply, rated_w)
    ) WITHOUT ROWID;
    INSERT INTO totals_v2 SELECT
        t.meter_id, t.bucket_ms, t.kind, m.supply = 'off_grid', m.rated_w, NULL, t.energy_mj
    FROM totals t JOIN meters m ON m.id = t.meter_id;
    DROP TABLE totals;
    ALTER TABLE totals_v2 RENAME TO totals;
    CREATE TABLE rate_steps (
        from_ms INTEGER PRIMARY KEY,
        grid TEXT NOT NULL,
        off_grid TEXT NOT NULL
    );
    ALTER TABLE rejections ADD COLUMN copy_no INTEGER NOT NULL DEFAULT 0;
    UPDATE rejections SET copy_no = numbered.copy_no FROM (
        SELECT id, ROW_NUMBER() OVER (
            PARTITION BY received_ms, topic, meter, reason, payload ORDER BY id
        ) - 1 AS copy_no FROM rejections
    ) AS numbered WHERE numbered.id = rejections.id;
    CREATE UNIQUE INDEX rejections_once ON rejections (
        received_ms, COALESCE(topic, ''), COALESCE(meter, ''), reason, COALESCE(payload, x''),
        copy_no
    );
    """,
    # 3: the daemon's blind time (rule 6), as its journal recorded it (the open span's start is
    # the meta key blind_since); rejections beyond the first few per hour, reason and meter are
    # counted, not kept.
    """
    CREATE TABLE blind_spans (start_ms INTEGER PRIMARY KEY, end_ms INTEGER NOT NULL);
    CREATE TABLE rejections_counted (
        hour_ms INTEGER NOT NULL,
        reason TEXT NOT NULL,
        meter TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        last_keys TEXT NOT NULL,
        PRIMARY KEY (hour_ms, reason, meter)
    ) WITHOUT ROWID;
    """,
    # 4: the time-series export. Each commit stamps the rows it writes or changes with the next
    # change number (`seq`), so an exporter finds rows that grew after it last sent them; each
    # output keeps its cursor here, in the same file, so a restored ledger and its cursor agree.
    """
    ALTER TABLE intervals ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX intervals_changed ON intervals (seq);
    CREATE TABLE export_cursors (
        target TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        meter_id INTEGER NOT NULL,
        caught_up_ms INTEGER,
        liability_from_ms INTEGER
    );
    """,
    # 5: reconciliation. A row and a per-bucket total carry the role their meter had when it was
    # accounted (0 billed, 1 site_main: measured, never billed), so that a change of role moves
    # no record; the totals' key gains it. The utility's invoiced kWh per month and supply are
    # kept append-only: a correction is a new entry, and the latest counts.
    """
    ALTER TABLE intervals ADD COLUMN role INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE totals_v5 (
        meter_id INTEGER NOT NULL REFERENCES meters(id),
        bucket_ms INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        supply INTEGER NOT NULL,
        rated_w INTEGER NOT NULL,
        role INTEGER NOT NULL DEFAULT 0,
        rate TEXT,
        energy_mj INTEGER NOT NULL,
        PRIMARY KEY (meter_id, bucket_ms, kind, supply, rated_w, role)
    ) WITHOUT ROWID;
    INSERT INTO totals_v5 (meter_id, bucket_ms, kind, supply, rated_w, role, rate, energy_mj)
        SELECT meter_id, bucket_ms, kind, supply, rated_w, 0, rate, energy_mj FROM totals;
    DROP TABLE totals;
    ALTER TABLE totals_v5 RENAME TO totals;
    CREATE TABLE invoices (
        id INTEGER PRIMARY KEY,
        period TEXT NOT NULL,
        supply INTEGER NOT NULL,
        kwh TEXT NOT NULL,
        entered_ms INTEGER NOT NULL,
        note TEXT
    );
    CREATE INDEX invoices_period ON invoices (period, supply);
    CREATE TRIGGER invoices_kept BEFORE UPDATE ON invoices
        BEGIN SELECT RAISE(ABORT, 'invoices are append-only: enter a correction'); END;
    CREATE TRIGGER invoices_never_deleted BEFORE DELETE ON invoices
        BEGIN SELECT RAISE(ABORT, 'invoices are append-only: enter a correction'); END;
    """,
    seal_the_record,
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
        migration = MIGRATIONS[number]
        if isinstance(migration, str):
            db.executescript(f"BEGIN; {migration}; PRAGMA user_version = {number + 1}; COMMIT;")
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            migration(db)
            db.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
