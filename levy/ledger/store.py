"""Reading and writing the ledger. One `commit` is one transaction: the rows of a batch, the meter
state they came from, the clock and the rejections land together or not at all."""

import fcntl
import json
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from levy.config.zone import load_zone
from levy.core.blind import Blindness
from levy.core.calendar import Calendar
from levy.core.engine import Changes, Row
from levy.core.model import DeemedReason, Measure, Role, Supply
from levy.core.rates import RateStep
from levy.core.rules import Baseline, MeterSpec, MeterState
from levy.ledger.chain import Block, Record, head, next_commit
from levy.ledger.errors import LedgerError, TamperedError
from levy.ledger.items import (
    BLIND_SPANS,
    CLOSES,
    INTERVALS,
    METERS,
    Describe,
    item_named,
    period_digest,
    resealing,
    resealing_binding,
    tampered,
)
from levy.ledger.rejections import RejectionRecord, log_rejections, rejection_counts
from levy.ledger.schema import SCHEMA_VERSION, LedgerVersionError, migrate
from levy.ledger.seal import FIELDS, canonical_object, seal
from levy.ledger.signing import Signer

KINDS: list[DeemedReason | None] = [None, *DeemedReason]
"""A row's kind as the ledger codes it: 0 metered, then each deemed reason."""
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
DEEMED = dict(enumerate(DeemedReason, start=1))
"""The deemed kinds by code."""
SUPPLIES = [Supply.GRID, Supply.OFF_GRID]
SUPPLY_CODE = {supply: code for code, supply in enumerate(SUPPLIES)}
ROLES = [Role.BILLED, Role.SITE_MAIN]
ROLE_CODE = {role: code for code, role in enumerate(ROLES)}
SUPPLY_NAMED = {supply.value: supply for supply in Supply}
MEASURE_NAMED = {measure.value: measure for measure in Measure}
"""The enums by the text the meters table keeps: a dict look-up, where calling the enum costs
microseconds, 100,000 times at a large site's start."""
ADD_TO_TOTALS = (
    "INSERT INTO totals (meter_id, bucket_ms, kind, supply, rated_w, rate, energy_mj, role)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (meter_id, bucket_ms, kind, supply, rated_w, role)"
    " DO UPDATE SET energy_mj = energy_mj + excluded.energy_mj"
)
"""(meter id, bucket, kind code, supply code, rated W, rate text, mJ, role code) added to its
total."""


COMPANIONS = ("-wal", "-shm", "-journal", ".lock")
"""What SQLite and the writer's lock put beside a ledger: a ledger taken away goes with them."""


__all__ = ["LedgerError", "TamperedError"]


class LedgerBusy(LedgerError):
    """Another levy-monitor (a daemon, as a rule) holds the ledger as its writer."""


@dataclass(frozen=True, slots=True)
class StoredMeter:
    """A meter as the ledger knows it: its latest configured attributes and its span."""

    name: str
    supply: Supply
    rated_w: int
    start_ms: int
    end_ms: int | None
    accrued_ms: int

    def active_in(self, start_ms: int, end_ms: int) -> bool:
        return self.start_ms < end_ms and (self.end_ms is None or self.end_ms > start_ms)

    def covered_to(self) -> int | None:
        """How far it is accounted; None once it is accounted to its decommissioning."""
        done = self.end_ms is not None and self.accrued_ms >= self.end_ms
        return None if done else self.accrued_ms


@dataclass(frozen=True, slots=True)
class BucketTotal:
    meter: str
    reason: DeemedReason | None
    """None for metered energy."""
    bucket_ms: int
    supply: Supply
    rated_w: int
    rate: Decimal | None
    """None only in a ledger from schema 1 not yet opened by a writer."""
    energy_mj: int
    role: Role = Role.BILLED


@dataclass(frozen=True, slots=True)
class DeemedRow:
    meter: str
    start_ms: int
    end_ms: int
    reason: DeemedReason
    energy_mj: int
    supply: Supply
    rated_w: int
    role: Role = Role.BILLED


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """A close record. What it proves (chain.py): the chain head as it stood once every row of
    the month was committed, the month's period digest, and optionally a signature over both."""

    period: str
    start_ms: int
    end_ms: int
    closed_at_ms: int
    chain_block: int | None = None
    """None for a month closed before the ledger kept a chain."""
    chain_hash: str | None = None
    period_digest: str | None = None
    signature: str | None = None
    public_key: str | None = None

    def signed_part(self, site_id: str | None) -> bytes:
        """What a signature covers, in the canonical encoding (seal.py)."""
        return canonical_object(
            {
                "t": "close",
                "site": site_id,
                "period": self.period,
                "start_ms": self.start_ms,
                "end_ms": self.end_ms,
                "closed_at_ms": self.closed_at_ms,
                "chain_block": self.chain_block,
                "chain_hash": self.chain_hash,
                "period_digest": self.period_digest,
            }
        )


CLOSE_COLUMNS = ", ".join(FIELDS["closed_periods"])


@dataclass(slots=True)
class SealedMeter:
    """A meter's row as this writer last wrote or checked it: the commit path seals a meter's
    new state from it without reading the row back."""

    id: int
    values: tuple[Any, ...]
    """In METER_FIELDS order."""
    seal: bytes
    """Its share of the state digest is computed again when the seal is replaced, not kept: a
    2,048-bit integer per meter is 28 MiB at 100,000 meters, for 1.2 us a commit."""
    row_start: int | None = None
    row_seal: bytes | None = None
    """The start and seal of the interval row this writer last wrote for the meter: the commit
    of the next reading, which grows that row, needs neither to look its seal up nor to hash it
    again. (Kept here rather than in a map of their own: 10 MiB at 100,000 meters.)"""


METER_AT = {column: at for at, column in enumerate(FIELDS["meters"])}
_REGISTERED = ("supply", "rated_w", "start_ms", "end_ms")
"""What `register_meters` writes over: a meter's configured attributes."""
_registered_values = operator.itemgetter(*(METER_AT[column] for column in _REGISTERED))
_ALIKE_AT = tuple(METER_AT[column] for column in (*_REGISTERED, "measure"))
"""The columns many meters hold alike (a supply, a rating, the accounting start)."""
_NAMED = "WHERE name IN (SELECT value FROM json_each(?))"
"""The meters named in a JSON list: what a registration or a removal reseals."""


def _registration(spec: MeterSpec) -> tuple[Any, ...]:
    return (spec.supply.value, spec.rated_w, spec.start_ms, spec.end_ms)


_INTERVAL_SEALS = (
    "SELECT i.meter_id, i.start_ms, i.seal FROM json_each(?) j JOIN intervals i"
    " ON i.start_ms = j.value ->> 1 AND i.meter_id = j.value ->> 0"
)
"""The stored seals of the rows a commit writes, looked up by key in one query."""
_WRITE_ROWS = (
    "INSERT INTO intervals (start_ms, meter_id, end_ms, kind, energy_mj, supply, rated_w, rate,"
    " role, seq, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (start_ms, meter_id)"
    " DO UPDATE SET end_ms = excluded.end_ms, kind = excluded.kind,"
    " energy_mj = excluded.energy_mj, supply = excluded.supply, rated_w = excluded.rated_w,"
    " rate = excluded.rate, role = excluded.role, seq = excluded.seq, seal = excluded.seal"
)
_STATE_COLUMNS = (
    "accrued_ms",
    "baseline_ms",
    "baseline_value",
    "faults",
    "measure",
    "open_row_ms",
)
"""What a commit changes in a meter's row."""
_WRITE_STATES = (
    "UPDATE meters SET accrued_ms = ?, baseline_ms = ?, baseline_value = ?, faults = ?,"
    " measure = ?, open_row_ms = ?, seal = ? WHERE id = ?"
)


_STATE_AT = tuple(METER_AT[column] for column in _STATE_COLUMNS)
"""Where _WRITE_STATES's columns are in a meter's values (METER_FIELDS order)."""
_ACCRUED, _BASELINE_MS, _BASELINE_VALUE, _FAULTS, _MEASURE, _OPEN_ROW = _STATE_AT
_state_columns = operator.itemgetter(*_STATE_AT)


def _store_state(values: list[Any], state: MeterState) -> None:
    """`state` written into a meter's values (METER_FIELDS order) as the ledger stores it: once
    per meter a batch moves, so without a lookup per column."""
    values[_ACCRUED] = state.accrued_ms
    values[_BASELINE_MS], values[_BASELINE_VALUE] = state.baseline or (None, None)
    values[_FAULTS] = encode_faults(state.faults) if state.faults else None
    values[_MEASURE] = None if state.measure is None else state.measure.value


def _state_of(values: tuple[Any, ...]) -> MeterState:
    """The engine state a meter's values (METER_FIELDS order) hold."""
    b_ms, measure = values[_BASELINE_MS], values[_MEASURE]
    return MeterState(
        values[_ACCRUED],
        None if b_ms is None else Baseline(b_ms, values[_BASELINE_VALUE]),
        decode_faults(values[_FAULTS]),
        None if measure is None else MEASURE_NAMED[measure],
    )


def _kept_once(values: tuple[Any, ...], alike: dict[tuple[type, Any], Any]) -> tuple[Any, ...]:
    """`values` with what other meters hold alike shared from `alike` (by type and value): a
    large site's meters, loaded, hold one copy of their supply, rating and accounting start, not
    100,000 (about 10 MiB)."""
    kept = list(values)
    for at in _ALIKE_AT:
        value = kept[at]
        kept[at] = alike.setdefault((type(value), value), value)
    return tuple(kept)


def row_values(row: Row, meter: str) -> tuple[Any, ...]:
    """A row's sealed values as the ledger stores them."""
    return (
        meter,
        row.start_ms,
        row.end_ms,
        KIND_CODE[row.reason],
        row.energy_mj,
        SUPPLY_CODE[row.supply],
        row.rated_w,
        str(row.rate),
        ROLE_CODE[row.role],
    )


def encode_faults(faults: tuple[int, ...]) -> str | None:
    return " ".join(map(str, faults)) or None


def decode_faults(text: str | None) -> tuple[int, ...]:
    return tuple(int(ms) for ms in text.split()) if text else ()


SQLITE_HEADER = b"SQLite format 3\x00"


def ledger_version(path: Path) -> int:
    """The schema version of an existing ledger; an emptied or foreign file, or one from a
    newer release, is a plain error."""
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if not header:
        raise LedgerError(
            f"ledger {path} is empty (0 bytes), not a ledger: restore it from a backup, or move "
            "it aside and replay the archive into a new ledger"
        )
    if header != SQLITE_HEADER:
        raise LedgerError(f"{path} is not a levy ledger (not an SQLite database)")
    db = read_only(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        ours = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
    finally:
        db.close()
    if version > SCHEMA_VERSION:
        raise LedgerVersionError(
            f"the ledger has schema version {version}; this release reads up to {SCHEMA_VERSION}"
        )
    if ours is None:
        raise LedgerError(f"{path} is an SQLite database but not a levy ledger")
    return version


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )


class Ledger:
    def __init__(self, path: Path, writer: bool = True) -> None:
        """A writer holds an exclusive lock beside the ledger for as long as it is open: the engine
        keeps meter state in memory, so two writers (a daemon and a `close`, say) would overwrite
        each other's rows. Readers (reports) need no lock: WAL lets them read while one writes."""
        self.path = path
        self._lock: IO[str] | None = None
        try:
            if writer:
                self.db = self._open_writer(path)
            else:
                self.db = self._open_reader(path)
            self._sealed: dict[str, SealedMeter] = {}
            """Each stored meter by name, with its id (no other map of 100,000 names)."""
            self._load_meters()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {path} cannot be read: {exc}") from exc
        except OSError as exc:
            raise LedgerError(f"ledger {path}: {exc.strerror or exc}") from exc

    def _open_writer(self, path: Path) -> sqlite3.Connection:
        """Creates a ledger where there is no file; a file that is there must be a ledger (an
        emptied or foreign file is refused rather than silently replaced)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            ledger_version(path)
        self._lock = self._take_lock(path)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        migrate(db)
        return db

    @staticmethod
    def _open_reader(path: Path) -> sqlite3.Connection:
        """Read-only: a reader never writes, migrations included."""
        version = ledger_version(path)
        if version < SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {path} is at schema version {version} and this release reads "
                f"{SCHEMA_VERSION}: run replay, close or run once to upgrade it (its figures "
                "stay as they are)"
            )
        return read_only(path)

    @property
    def writer(self) -> bool:
        return self._lock is not None

    def _load_meters(self) -> None:
        """The meters as stored, a writer's each checked against its seal: a writer never builds
        on a hand edit (a reader, a report or the exporter, shows what is there; `verify` is what
        checks it)."""
        sealed = {}
        alike: dict[tuple[type, Any], Any] = {}
        for (number,), values, stored in METERS.rows(self.db):
            if self.writer and stored != seal(METERS.name, values):
                raise tampered(self.named(METERS.name, (number,), values))
            sealed[values[0]] = SealedMeter(number, _kept_once(values, alike), stored or b"")
        self._sealed = sealed

    @property
    def named(self) -> Describe:
        """How messages name an item: times in the ledger's zone."""
        return item_named(Calendar(load_zone(self.meta("timezone") or "UTC")).iso)

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.close()

    @staticmethod
    def _take_lock(path: Path) -> IO[str]:
        lock = open(f"{path}.lock", "a+")  # noqa: SIM115 -- held until close()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise LedgerBusy(
                f"ledger {path} is in use by another levy-monitor (a running daemon closes months "
                "by itself; stop it first to replay or close by hand)"
            ) from None
        return lock

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def recording(self, new_block: bool = False) -> Iterator[Record]:
        """A transaction that changes items of the record: it takes the next commit number
        and, if it changed any item, goes into the chain (`new_block`: as a block's first)."""
        with self.transaction() as db:
            record = Record(db, next_commit(db))
            yield record
            record.finish(new_block)
        if METERS.name in record.resealed:
            self._load_meters()
        if INTERVALS.name in record.resealed:
            for meter in self._sealed.values():
                meter.row_start = meter.row_seal = None

    def chain_head(self) -> Block | None:
        return head(self.db)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def bind_site(
        self,
        site_id: str,
        accounting_start_ms: int | None,
        timezone: str,
        iso: Callable[[int], str] | None = None,
    ) -> int:
        """Fix the ledger's site, zone and accounting start on first use; check them ever
        after. The zone decides which month every stored row belongs to. Messages show times
        with `iso` (default: ISO 8601 in `timezone`, as the pinned tzdata has it)."""
        self.check_binding(site_id, timezone)
        stored_site = self.meta("site_id")
        if self.meta("timezone") is None and stored_site is not None:
            with self.recording() as record, resealing_binding(record, self.named):
                self.set_meta(record.db, "timezone", timezone)
        stored_start = self.meta("accounting_start_ms")
        if stored_start is not None:
            if accounting_start_ms is not None and int(stored_start) != accounting_start_ms:
                show = iso or Calendar(load_zone(timezone)).iso
                raise LedgerError(
                    f"ledger {self.path} keeps accounts from {show(int(stored_start))}; a "
                    f"different accounting start ({show(accounting_start_ms)}) was asked for"
                )
            return int(stored_start)
        if accounting_start_ms is None:
            raise LedgerError(f"ledger {self.path} is new and no accounting start was given")
        with self.recording() as record, resealing_binding(record, self.named):
            self.set_meta(record.db, "site_id", site_id)
            self.set_meta(record.db, "timezone", timezone)
            self.set_meta(record.db, "accounting_start_ms", str(accounting_start_ms))
        return accounting_start_ms

    def check_binding(self, site_id: str, timezone: str) -> None:
        """The ledger is this site's, kept in this zone (readers check, writers bind)."""
        stored_site = self.meta("site_id")
        if stored_site is not None and stored_site != site_id:
            raise LedgerError(
                f"ledger {self.path} belongs to site {stored_site!r}, not {site_id!r}"
            )
        stored_zone = self.meta("timezone")
        if stored_zone is not None and stored_zone != timezone:
            raise LedgerError(
                f"ledger {self.path} keeps its accounts in time zone {stored_zone}; the "
                f"configuration says {timezone} (site.timezone): a ledger's months never move"
            )

    @property
    def accounting_start_ms(self) -> int | None:
        value = self.meta("accounting_start_ms")
        return int(value) if value is not None else None

    @property
    def clock_ms(self) -> int:
        value = self.meta("clock_ms")
        return int(value) if value is not None else 0

    def register_meters(self, specs: Iterable[MeterSpec]) -> None:
        """Record each configured meter's current supply, rating and span: reports name meters
        and find coverage from the ledger alone. What was billed stays on the rows. Only the
        meters that are new or differ are written (and resealed): a restart with 100,000
        unchanged meters writes nothing."""
        changed = [spec for spec in specs if self._registered(spec) != _registration(spec)]
        if not changed:
            return
        names = (json.dumps([spec.id for spec in changed]),)
        with self.recording() as record, resealing(record, METERS, self.named, _NAMED, names):
            record.db.executemany(
                "INSERT INTO meters (name, supply, rated_w, measure, start_ms, end_ms,"
                " accrued_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " supply = excluded.supply, rated_w = excluded.rated_w,"
                " start_ms = excluded.start_ms, end_ms = excluded.end_ms",
                [
                    (
                        spec.id,
                        spec.supply.value,
                        spec.rated_w,
                        None if spec.measure is None else spec.measure.value,
                        spec.start_ms,
                        spec.end_ms,
                        spec.start_ms,
                    )
                    for spec in changed
                ],
            )

    def _registered(self, spec: MeterSpec) -> tuple[Any, ...] | None:
        """What the ledger holds of `spec`'s registration (as checked against its seal)."""
        meter = self._sealed.get(spec.id)
        if meter is None:
            return None
        return _registered_values(meter.values)

    def billed_meters(self) -> set[str]:
        """Meters with intervals in the ledger."""
        query = (
            "SELECT name FROM meters m"
            " WHERE EXISTS (SELECT 1 FROM totals t WHERE t.meter_id = m.id)"
        )
        return {name for (name,) in self.db.execute(query)}

    def forget_meters(self, names: Iterable[str]) -> None:
        """Drop meters that never billed anything and are no longer configured."""
        gone = list(names)
        if not gone:
            return
        named = (json.dumps(gone),)
        with self.recording() as record, resealing(record, METERS, self.named, _NAMED, named):
            record.db.executemany("DELETE FROM meters WHERE name = ?", [(name,) for name in gone])

    def meter_names(self) -> set[str]:
        """The meters stored, as last loaded (every write of meters reloads them)."""
        return set(self._sealed)

    def meters(self) -> dict[str, StoredMeter]:
        rows = self.db.execute(
            "SELECT name, supply, rated_w, start_ms, end_ms, accrued_ms FROM meters ORDER BY name"
        )
        return {
            name: StoredMeter(name, SUPPLY_NAMED[supply], rated_w, start, end, accrued)
            for name, supply, rated_w, start, end, accrued in rows
        }

    def states(self) -> tuple[dict[str, MeterState], dict[str, Row]]:
        """The engine state of every meter, and each meter's open (last) row; a writer's checked
        against their seals: the engine never resumes from a hand edit. A reader (the daemon's
        exporter keeps one open) reads them afresh; a writer has them as it wrote them."""
        if not self.writer:
            self._load_meters()
        states = {name: _state_of(meter.values) for name, meter in self._sealed.items()}
        rows: dict[str, Row] = {}
        query = (
            "SELECT m.name, i.start_ms, i.end_ms, i.kind, i.energy_mj, i.supply, i.rated_w,"
            " i.rate, i.role, i.seal FROM meters m CROSS JOIN intervals i"
            " ON i.meter_id = m.id AND i.start_ms = m.open_row_ms"
        )
        # CROSS JOIN keeps meters outside: one primary-key look-up per meter, where the
        # planner would otherwise scan every interval of the ledger (a minute for a month)
        rates: dict[str | None, Decimal] = {}  # one per rate, not per meter (memory)
        for *values, stored in self.db.execute(query):
            if self.writer and stored != seal("intervals", values):
                raise tampered(self.named("intervals", (), tuple(values)))
            name, start, end, kind, energy, supply, rated_w, rate, role = values
            name = self._sealed[name].values[0]  # the meter's one copy of its name
            if rate not in rates:
                rates[rate] = Decimal(rate) if rate is not None else Decimal(0)
            rows[name] = Row(
                name,
                start,
                end,
                KINDS[kind],
                energy,
                SUPPLIES[supply],
                rated_w,
                rates[rate],
                ROLES[role],
            )
        return states, rows

    def commit(
        self,
        changes: Changes,
        rejections: Iterable[RejectionRecord] = (),
        journal: str | None = None,
    ) -> None:
        """`journal` is the raw archive's position after this batch's messages: stored in the
        same transaction, it tells a restarted daemon which archived lines were committed.

        The hot path: each row and meter state is sealed from the values written (a meter's
        other fields as this writer last sealed them), the old seals of the rows it overwrites
        come from one query, and a row or state that did not change is not written at all."""
        with self.recording() as record:
            db = record.db
            if journal is not None:
                self.set_meta(db, "journal", journal)
            rows, last_rows = self._sealed_rows(record, changes)
            db.executemany(_WRITE_ROWS, rows)
            meters = self._sealed_states(record, changes)
            db.executemany(
                _WRITE_STATES,
                [
                    (*_state_columns(meter.values), meter.seal, meter.id)
                    for meter in meters.values()
                ],
            )
            db.executemany(
                ADD_TO_TOTALS,
                [
                    (
                        self._sealed[key.meter].id,
                        key.bucket_ms,
                        KIND_CODE[key.reason],
                        SUPPLY_CODE[key.supply],
                        key.rated_w,
                        str(key.rate),
                        energy,
                        ROLE_CODE[key.role],
                    )
                    for key, energy in changes.totals.items()
                ],
            )
            log_rejections(db, rejections)
            for span in changes.blind_closed:
                new = seal(BLIND_SPANS.name, span)
                inserted = db.execute(
                    "INSERT OR IGNORE INTO blind_spans (start_ms, end_ms, seal) VALUES (?, ?, ?)",
                    (*span, new),
                )
                if inserted.rowcount:
                    record.replace(None, new)
            if changes.blind_changed:
                if changes.blind_since is None:
                    db.execute("DELETE FROM meta WHERE key = 'blind_since'")
                else:
                    self.set_meta(db, "blind_since", str(changes.blind_since))
            if changes.clock_ms > self.clock_ms:
                self.set_meta(db, "clock_ms", str(changes.clock_ms))
        self._sealed.update(meters)
        for name, (start_ms, row_seal) in last_rows.items():
            meter = self._sealed[name]
            meter.row_start, meter.row_seal = start_ms, row_seal

    def _sealed_rows(
        self, record: Record, changes: Changes
    ) -> tuple[list[tuple[Any, ...]], dict[str, tuple[int, bytes]]]:
        """The rows of `changes` that differ from what is stored, sealed and stamped with the
        commit's number, ready for _WRITE_ROWS; and each meter's last row written, to keep once
        the transaction is done."""
        rows = list(changes.rows.values())
        old = self._stored_seals(record.db, rows)
        written = []
        last_rows: dict[str, tuple[int, bytes]] = {}
        for row in rows:
            meter_id = self._sealed[row.meter].id
            values = row_values(row, row.meter)
            new = seal("intervals", values)
            was = old.get((meter_id, row.start_ms))
            if new != was:
                record.replace(was, new)
                last_rows[row.meter] = (row.start_ms, new)
                written.append((row.start_ms, meter_id, *values[2:], record.number, new))
        return written, last_rows

    def _stored_seals(
        self, db: sqlite3.Connection, rows: list[Row]
    ) -> dict[tuple[int, int], bytes]:
        """The stored seals of `rows` by (meter id, start): a row this writer wrote last for its
        meter from memory, the others from one query."""
        found: dict[tuple[int, int], bytes] = {}
        unknown = []
        for row in rows:
            meter = self._sealed[row.meter]
            if meter.row_start == row.start_ms and meter.row_seal is not None:
                found[(meter.id, row.start_ms)] = meter.row_seal
            else:
                unknown.append([meter.id, row.start_ms])
        if unknown:
            stored = db.execute(_INTERVAL_SEALS, (json.dumps(unknown),))
            found.update(((meter_id, start), seal) for meter_id, start, seal in stored)
        return found

    def _sealed_states(self, record: Record, changes: Changes) -> dict[str, SealedMeter]:
        """The meters whose row `changes` alters, with their new values and seals."""
        open_rows: dict[str, int] = {}
        for row in changes.rows.values():
            open_rows[row.meter] = max(row.start_ms, open_rows.get(row.meter, row.start_ms))
        changed = {}
        for name in changes.states.keys() | open_rows.keys():
            meter = self._sealed[name]
            values = list(meter.values)
            state = changes.states.get(name)
            if state is not None:
                _store_state(values, state)
            opened, current = open_rows.get(name), values[_OPEN_ROW]
            if opened is not None and (current is None or current < opened):
                values[_OPEN_ROW] = opened
            new = seal(METERS.name, values)
            if new != meter.seal:
                record.replace(meter.seal, new)
                changed[name] = SealedMeter(
                    meter.id, tuple(values), new, meter.row_start, meter.row_seal
                )
        return changed

    def blindness(self) -> Blindness:
        since = self.meta("blind_since")
        spans = self.db.execute("SELECT start_ms, end_ms FROM blind_spans").fetchall()
        return Blindness(spans, None if since is None else int(since))

    def closed_periods(self) -> dict[str, ClosedPeriod]:
        rows = self.db.execute(f"SELECT {CLOSE_COLUMNS} FROM closed_periods")
        return {row[0]: ClosedPeriod(*row) for row in rows}

    def frozen_until_ms(self) -> int | None:
        return self.db.execute("SELECT MAX(end_ms) FROM closed_periods").fetchone()[0]

    def mark_closed(
        self, period: ClosedPeriod, journal: str | None = None, signer: Signer | None = None
    ) -> None:
        """Store the close record with its evidence: the chain head as the month's last rows
        left it, the month's period digest, and with `signer` its signature. The close's own
        commit opens a new block, so that the head it names is never extended."""
        with self.recording(new_block=True) as record:
            db = record.db
            if journal is not None:
                self.set_meta(db, "journal", journal)
            if db.execute(
                "SELECT 1 FROM closed_periods WHERE period = ?", (period.period,)
            ).fetchone():
                return
            last = head(db)
            close = replace(
                period,
                chain_block=None if last is None else last.number,
                chain_hash=None if last is None else last.hash,
                period_digest=period_digest(db, period.start_ms, period.end_ms),
            )
            if signer is not None:
                signature = signer.sign(close.signed_part(self.meta("site_id")))
                close = replace(close, signature=signature, public_key=signer.public_key)
            values = astuple(close)
            new = seal(CLOSES.name, values)
            db.execute(
                f"INSERT INTO closed_periods ({CLOSE_COLUMNS}, seal) VALUES"
                f" ({', '.join('?' * (len(values) + 1))})",
                (*values, new),
            )
            record.replace(None, new)

    def bucket_totals(self, start_ms: int, end_ms: int) -> Iterator[BucketTotal]:
        """The per-bucket totals of buckets starting in [start, end)."""
        names = {meter.id: name for name, meter in self._sealed.items()}
        query = (
            "SELECT meter_id, kind, bucket_ms, supply, rated_w, rate, energy_mj, role FROM totals"
            " WHERE bucket_ms >= ? AND bucket_ms < ?"
        )
        for meter_id, kind, bucket, supply, rated_w, rate, energy, role in self.db.execute(
            query, (start_ms, end_ms)
        ):
            yield BucketTotal(
                names[meter_id],
                KINDS[kind],
                bucket,
                SUPPLIES[supply],
                rated_w,
                None if rate is None else Decimal(rate),
                energy,
                ROLES[role],
            )

    def deemed_rows(self, start_ms: int, end_ms: int) -> Iterator[DeemedRow]:
        """The deemed rows starting in [start, end), by meter and time."""
        query = (
            "SELECT m.name, i.start_ms, i.end_ms, i.kind, i.energy_mj, i.supply, i.rated_w, i.role"
            " FROM intervals i JOIN meters m"
            " ON m.id = i.meter_id WHERE i.start_ms >= ? AND i.start_ms < ? AND i.kind != 0"
            " ORDER BY m.name, i.start_ms"
        )
        for name, start, end, kind, energy, supply, rated_w, role in self.db.execute(
            query, (start_ms, end_ms)
        ):
            yield DeemedRow(
                name, start, end, DEEMED[kind], energy, SUPPLIES[supply], rated_w, ROLES[role]
            )

    def energy_by_supply(self, start_ms: int, end_ms: int) -> dict[tuple[Supply, bool], int]:
        """The billed energy of the rows starting in [start, end), by supply and whether deemed
        (a site_main meter's is measured, never billed): a row lies inside one local clock hour,
        so a span of whole local hours is summed exactly."""
        query = (
            "SELECT supply, kind != 0, SUM(energy_mj) FROM intervals"
            f" WHERE start_ms >= ? AND start_ms < ? AND role = {ROLE_CODE[Role.BILLED]}"
            " GROUP BY supply, kind != 0"
        )
        return {
            (SUPPLIES[supply], bool(deemed)): energy
            for supply, deemed, energy in self.db.execute(query, (start_ms, end_ms))
        }

    def rate_steps(self) -> list[RateStep]:
        """The rate schedule the ledger has billed with; empty for a ledger from schema 1 that
        no writer has opened yet."""
        rows = self.db.execute("SELECT from_ms, grid, off_grid FROM rate_steps ORDER BY from_ms")
        return [
            RateStep(from_ms, {Supply.GRID: Decimal(grid), Supply.OFF_GRID: Decimal(off)})
            for from_ms, grid, off in rows
        ]

    def coverage(self, meter: str) -> list[tuple[int, int]]:
        """The meter's rows as (start, end), in order: what the coverage invariant is checked on."""
        query = "SELECT start_ms, end_ms FROM intervals WHERE meter_id = ? ORDER BY start_ms"
        return list(self.db.execute(query, (self._sealed[meter].id,)))

    def rejection_counts(self) -> dict[str, int]:
        return rejection_counts(self.db)
