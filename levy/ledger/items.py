"""Where each kind of item lives in the ledger: how its sealed fields are read, how its seal is
stored, and resealing the items a writer changes in SQL (the hot path, `Ledger.commit`, seals
what it writes from the values it writes instead)."""

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from levy.ledger.chain import Record, next_commit
from levy.ledger.errors import TamperedError
from levy.ledger.seal import FIELDS, seal

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """A table of items: `source` the FROM clause, `key` the expressions naming one item (the
    table's primary key, `key_columns` spelled for an UPDATE), `values` one expression per
    sealed field, in FIELDS order."""

    name: str
    source: str
    key: tuple[str, ...]
    key_columns: tuple[str, ...]
    values: tuple[str, ...]
    seal_column: str

    def __post_init__(self) -> None:
        assert len(self.values) == len(FIELDS[self.name]), self.name

    def select(self, where: str = "") -> str:
        columns = ", ".join((*self.key, *self.values, self.seal_column))
        return f"SELECT {columns} FROM {self.source} {where}"

    def rows(
        self, db: sqlite3.Connection, where: str = "", params: tuple[Any, ...] = ()
    ) -> Iterator[tuple[Key, tuple[Any, ...], bytes | None]]:
        """(key, sealed values, stored seal) of each item matching `where`."""
        width = len(self.key)
        for row in db.execute(self.select(where), params):
            yield tuple(row[:width]), tuple(row[width:-1]), row[-1]

    def store_seal(self, db: sqlite3.Connection, key: Key, new: bytes) -> None:
        match = " AND ".join(f"{column} = ?" for column in self.key_columns)
        db.execute(f"UPDATE {self.name} SET seal = ? WHERE {match}", (new, *key))


INTERVALS = Table(
    "intervals",
    "intervals i LEFT JOIN meters m ON m.id = i.meter_id",
    ("i.meter_id", "i.start_ms"),
    ("meter_id", "start_ms"),
    (
        "m.name",
        "i.start_ms",
        "i.end_ms",
        "i.kind",
        "i.energy_mj",
        "i.supply",
        "i.rated_w",
        "i.rate",
        "i.role",
    ),
    "i.seal",
)
METERS = Table("meters", "meters", ("id",), ("id",), FIELDS["meters"], "seal")
CLOSES = Table(
    "closed_periods", "closed_periods", ("period",), ("period",), FIELDS["closed_periods"], "seal"
)
BLIND_SPANS = Table(
    "blind_spans", "blind_spans", ("start_ms",), ("start_ms",), FIELDS["blind_spans"], "seal"
)
TABLES = (METERS, INTERVALS, CLOSES, BLIND_SPANS)

BINDING_SEAL_KEY = "binding_seal"
_BINDING_META = ("site_id", "timezone", "accounting_start_ms")


def _as_stored(text: str | None) -> int | str | None:
    """A number kept as text in `meta`, sealed as the integer it spells."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def binding(db: sqlite3.Connection) -> tuple[tuple[Any, ...] | None, bytes | None]:
    """The binding's sealed values (None while the ledger is bound to no site) and its seal."""
    meta = dict(db.execute("SELECT key, value FROM meta"))
    rates = [list(row) for row in db.execute("SELECT * FROM rate_steps ORDER BY from_ms")]
    parts = [meta.get(key) for key in _BINDING_META]
    stored = meta.get(BINDING_SEAL_KEY)
    seal_bytes = bytes.fromhex(stored) if stored else None
    if all(part is None for part in parts) and not rates:
        return None, seal_bytes
    site, zone, start = parts
    return (site, zone, _as_stored(start), rates), seal_bytes


def binding_seal(values: tuple[Any, ...] | None) -> bytes | None:
    return None if values is None else seal("binding", values)


Describe = Callable[[str, Key, tuple[Any, ...]], str]


def tampered(what: str) -> TamperedError:
    return TamperedError(
        f"{what} does not match its seal: the ledger was edited outside levy-monitor, and no "
        "command writes to it until it is restored (levy-monitor verify names what changed)"
    )


@contextmanager
def resealing(
    record: Record,
    table: Table,
    describe: Describe,
    where: str = "",
    params: tuple[Any, ...] = (),
) -> Iterator[None]:
    """Around SQL that changes items of `table` (those matching `where`): each must match its
    seal before (a writer never builds on a hand edit), and afterwards every item that changed,
    appeared or went is resealed and recorded."""
    record.resealed.add(table.name)
    before: dict[Key, bytes | None] = {}
    for key, values, stored in table.rows(record.db, where, params):
        if stored != seal(table.name, values):
            raise tampered(describe(table.name, key, values))
        before[key] = stored
    yield
    after: set[Key] = set()
    for key, values, stored in table.rows(record.db, where, params):
        after.add(key)
        new = seal(table.name, values)
        if new != stored:
            table.store_seal(record.db, key, new)
        record.replace(before.get(key), new)
    for key in before.keys() - after:
        record.replace(before[key], None)


@contextmanager
def resealing_binding(record: Record, describe: Describe) -> Iterator[None]:
    """The same for the binding (meta and rate_steps)."""
    values, stored = binding(record.db)
    if values is not None and stored != binding_seal(values):
        raise tampered(describe("binding", (), values))
    yield
    new_values, _ = binding(record.db)
    new = binding_seal(new_values)
    if new != stored:
        _store_binding_seal(record.db, new)
    record.replace(stored, new)


def _store_binding_seal(db: sqlite3.Connection, new: bytes | None) -> None:
    if new is None:
        db.execute("DELETE FROM meta WHERE key = ?", (BINDING_SEAL_KEY,))
    else:
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (BINDING_SEAL_KEY, new.hex())
        )


def period_digest(db: sqlite3.Connection, start_ms: int, end_ms: int) -> str:
    """SHA-256 over the seals of the interval rows starting in [start, end), in (meter name,
    start) order: what a close record stores, so that no row of a closed month can change
    unnoticed even by one who recomputes every seal and the state digest."""
    query = (
        "SELECT i.seal FROM intervals i LEFT JOIN meters m ON m.id = i.meter_id"
        " WHERE i.start_ms >= ? AND i.start_ms < ? ORDER BY m.name, i.start_ms"
    )
    digest = hashlib.sha256()
    for (stored,) in db.execute(query, (start_ms, end_ms)):
        digest.update(stored or b"")
    return digest.hexdigest()


def item_named(iso: Callable[[int], str]) -> Describe:
    """How messages name an item, times shown by `iso`."""

    def shown(ms: Any) -> str:
        return iso(ms) if isinstance(ms, int) else repr(ms)

    def named(t: str, key: Key, values: tuple[Any, ...]) -> str:
        if t == "intervals":
            meter = values[0] if values[0] is not None else f"id {key[0]} (no such meter)"
            return (
                f"the intervals row of meter {meter} from {shown(values[1])} to {shown(values[2])}"
            )
        if t == "meters":
            return f"the meters row of {values[0]}"
        if t == "closed_periods":
            return f"the close record of {values[0]}"
        if t == "blind_spans":
            return f"the blind span from {shown(values[0])} to {shown(values[1])}"
        return "the binding (site id, time zone, accounting start, rate steps)"

    return named


def seal_as_found(db: sqlite3.Connection) -> None:
    """Seal every item of a ledger from before the chain as it is, give its closed months their
    period digest, and record it all as the first block."""
    record = Record(db, next_commit(db))
    for table in (METERS, INTERVALS, BLIND_SPANS):
        _seal_all(record, table)
    closes = db.execute("SELECT period, start_ms, end_ms FROM closed_periods").fetchall()
    for period, start, end in closes:
        db.execute(
            "UPDATE closed_periods SET period_digest = ? WHERE period = ?",
            (period_digest(db, start, end), period),
        )
    _seal_all(record, CLOSES)
    bound = binding_seal(binding(db)[0])
    _store_binding_seal(db, bound)
    record.replace(None, bound)
    record.finish()


def _seal_all(record: Record, table: Table) -> None:
    for key, values, _ in list(table.rows(record.db)):
        new = seal(table.name, values)
        table.store_seal(record.db, key, new)
        record.replace(None, new)
