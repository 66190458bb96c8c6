"""The chain: what proves that nothing in the ledger was changed but by its own commits.

**State digest.** S is an additive multiset hash over every item's seal (see seal.py):
S = sum of int.from_bytes(SHAKE-256(seal), 256 bytes, big-endian) mod 2**2048. A commit updates
it without reading the rest of the ledger: minus the contribution of each seal it overwrites or
removes, plus that of each seal it writes. The current S is kept in `meta` (`state_digest`, hex)
for the writer; `verify` recomputes it from the tables.

**Blocks.** Table `chain` holds one block per clock hour (the UTC hour of the ledger clock, or of
the accounting start while the clock is behind it) in which something was written. Every commit
that writes anything takes the next commit number (the `seq` its interval rows are stamped
with). The newest block is open: each commit of its hour updates it in place; the first commit of
a later hour opens a new block, and so does every close, so that the chain head a close record
stores is a finished block. A block's fields:
- `number` (1, 2, ...), `hour_ms`, `first_commit`, `last_commit`, `commits` (how many: every
  number from first to last), `clock_ms` (the ledger clock at its last commit);
- `changes`: a running hash of its commits, from 32 zero bytes: SHA-256(changes || commit number
  as 8 bytes big-endian || D), where D is SHA-256 of the commit's entries in byte order, an entry
  being `+` and the seal of an item the commit wrote or `-` and the seal of one it overwrote or
  removed (so D depends on what changed, never on the order the code wrote it in);
- `state`: SHA-256 of S (256 bytes, big-endian) after its last commit;
- `prev`: the previous block's hash (block 1: 32 zero bytes);
- `hash`: SHA-256 of the canonical encoding (seal.py) of the object {"t": "chain", and every
  field above}, hashes as lowercase hex.
"""

import hashlib
import sqlite3
from dataclasses import asdict, dataclass, field, replace

from levy.ledger.seal import canonical_object

DIGEST_BYTES = 256
MODULUS = 2 ** (8 * DIGEST_BYTES)
GENESIS = bytes(32).hex()
"""The `prev` of block 1, and where every block's `changes` starts."""
HOUR_MS = 3_600_000
STATE_KEY = "state_digest"


def contribution(seal: bytes) -> int:
    return int.from_bytes(hashlib.shake_256(seal).digest(DIGEST_BYTES), "big")


def state_of(total: int) -> str:
    """A block's `state` for the state digest `total`."""
    return hashlib.sha256(total.to_bytes(DIGEST_BYTES, "big")).hexdigest()


def digest_of(seals: list[bytes | None]) -> int:
    """S from scratch, over every item's stored seal (an unsealed item counts as none)."""
    return sum(contribution(seal) for seal in seals if seal is not None) % MODULUS


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    hour_ms: int
    first_commit: int
    last_commit: int
    commits: int
    clock_ms: int
    changes: str
    state: str
    prev: str
    hash: str = ""

    def computed_hash(self) -> str:
        fields = {"t": "chain", **asdict(self)}
        del fields["hash"]
        return hashlib.sha256(canonical_object(fields)).hexdigest()

    def sealed(self) -> "Block":
        return replace(self, hash=self.computed_hash())


BLOCK_COLUMNS = (
    "number, hour_ms, first_commit, last_commit, commits, clock_ms, changes, state, prev, hash"
)


def head(db: sqlite3.Connection) -> Block | None:
    row = db.execute(f"SELECT {BLOCK_COLUMNS} FROM chain ORDER BY number DESC LIMIT 1").fetchone()
    return None if row is None else Block(*row)


def blocks(db: sqlite3.Connection) -> list[Block]:
    return [Block(*row) for row in db.execute(f"SELECT {BLOCK_COLUMNS} FROM chain ORDER BY number")]


def next_commit(db: sqlite3.Connection) -> int:
    """The number of the next commit that writes anything: after the chain head's last, or for a
    ledger without a chain yet after every row's change number."""
    last = head(db)
    if last is not None:
        return last.last_commit + 1
    return db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM intervals").fetchone()[0]


def commit_digest(removed: list[bytes], added: list[bytes]) -> bytes:
    entries = sorted([b"-" + seal for seal in removed] + [b"+" + seal for seal in added])
    return hashlib.sha256(b"".join(entries)).digest()


def chained(changes: str, number: int, digest: bytes) -> str:
    """A block's `changes` after commit `number`, whose entries hash to `digest`."""
    return hashlib.sha256(bytes.fromhex(changes) + number.to_bytes(8, "big") + digest).hexdigest()


def stored_digest(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (STATE_KEY,)).fetchone()
    return int(row[0], 16) if row else 0


def block_hour(db: sqlite3.Connection) -> tuple[int, int]:
    """(the hour a commit now belongs to, the ledger clock it is stamped with)."""
    meta = dict(
        db.execute("SELECT key, value FROM meta WHERE key IN ('clock_ms', 'accounting_start_ms')")
    )
    clock = max(int(meta.get("clock_ms", 0)), int(meta.get("accounting_start_ms", 0)))
    return clock - clock % HOUR_MS, clock


@dataclass
class Record:
    """One writing transaction's changes to the record: the seals it removed and wrote. `finish`
    chains them as commit `number`; a transaction that changed no item records nothing."""

    db: sqlite3.Connection
    number: int
    removed: list[bytes] = field(default_factory=list)
    added: list[bytes] = field(default_factory=list)
    resealed: set[str] = field(default_factory=set)
    """The tables whose items were resealed from SQL (items.resealing)."""
    delta: int = 0
    """What the commit adds to S (before the modulus)."""

    def replace(self, old: bytes | None, new: bytes | None) -> None:
        """An item went from seal `old` to `new` (None: it was not there, or is gone)."""
        if old == new:
            return
        if old is not None:
            self.removed.append(old)
            self.delta -= contribution(old)
        if new is not None:
            self.added.append(new)
            self.delta += contribution(new)

    def finish(self, new_block: bool = False) -> Block | None:
        """Fold the commit into S and the chain; `new_block` ends the open block first (a close).
        Returns the block it went into, or None when it changed nothing."""
        if not self.removed and not self.added:
            return None
        total = (stored_digest(self.db) + self.delta) % MODULUS
        self.db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (STATE_KEY, format(total, "x")),
        )
        hour, clock = block_hour(self.db)
        digest = commit_digest(self.removed, self.added)
        last = head(self.db)
        if last is None or new_block or hour > last.hour_ms:
            block = Block(
                number=1 if last is None else last.number + 1,
                hour_ms=hour,
                first_commit=self.number,
                last_commit=self.number,
                commits=1,
                clock_ms=clock,
                changes=chained(GENESIS, self.number, digest),
                state=state_of(total),
                prev=GENESIS if last is None else last.hash,
            ).sealed()
        else:
            block = replace(
                last,
                last_commit=self.number,
                commits=last.commits + 1,
                clock_ms=clock,
                changes=chained(last.changes, self.number, digest),
                state=state_of(total),
            ).sealed()
        self.db.execute(
            f"INSERT OR REPLACE INTO chain ({BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(asdict(block).values()),
        )
        return block
