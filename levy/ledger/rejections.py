"""The rejection log, bounded: per UTC hour, reason and meter the first KEPT rejections are kept
in full (time, topic, reason, detail, the first KiB of the payload) and the rest are counted, so
a flood of garbage costs the ledger a bounded amount per hour, not per message.

Replaying the same messages changes nothing: a kept rejection is unique (see its copy number),
and a counted one is counted only when it is received after the latest one counted in its
bucket, or in the same millisecond and not yet counted (by a digest of the message). A rejection
received before one already counted, which only a clock stepped back can cause, is not counted:
the count errs low, never twice.
"""

import hashlib
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from levy.core.model import RejectReason
from levy.core.units import MS_PER_HOUR

KEPT = 10
"""Rejections kept in full per hour, reason and meter: enough to see what a device sends."""
PAYLOAD_KEPT = 1024
TOPIC_KEPT = 256


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    received_ms: int
    reason: RejectReason
    detail: str
    topic: str | None = None
    meter: str | None = None
    payload: bytes | None = None
    copy_no: int = 0
    """Which copy of identical rejections (same time, topic, meter, reason and payload) in one
    batch this is: each copy is logged once, and a replay of the same messages adds none."""


StoredKey = tuple[int, str | None, str | None, RejectReason, bytes | None]
"""(received ms, topic cut, meter, reason, payload cut)"""


def stored_key(record: RejectionRecord) -> StoredKey:
    """What the log keeps of a rejection: two that agree on it are copies of one message."""
    return (
        record.received_ms,
        None if record.topic is None else record.topic[:TOPIC_KEPT],
        record.meter,
        record.reason,
        None if record.payload is None else record.payload[:PAYLOAD_KEPT],
    )


def identity(record: RejectionRecord) -> str:
    """A digest of what the log keeps of a rejection and its copy number: which message it was."""
    digest = hashlib.blake2b(repr((stored_key(record), record.copy_no)).encode(), digest_size=8)
    return digest.hexdigest()


def number_copies(records: list[RejectionRecord]) -> list[RejectionRecord]:
    """One batch's rejections, numbered and in the order the log takes them in (by time, then
    by identity: the order of delivery within a batch does not matter). Identical rejections
    (a device repeating itself within a millisecond) are told apart by their copy number, so
    each is logged and a replay of them adds nothing."""
    copies: Counter[tuple[object, ...]] = Counter()
    out = []
    for record in records:
        key = stored_key(record)
        out.append(replace(record, copy_no=copies[key]))
        copies[key] += 1
    out.sort(key=lambda record: (record.received_ms, identity(record)))
    return out


def log_rejections(db: sqlite3.Connection, records: Iterable[RejectionRecord]) -> None:
    """`records` in `number_copies`'s order, batch after batch: batches committed together are
    logged as if committed one by one (which are kept in full and which counted depends on it)."""
    for record in records:
        key = identity(record)
        hour = record.received_ms - record.received_ms % MS_PER_HOUR
        meter = record.meter or ""
        if _kept_in(db, hour, record.reason.value, record.meter) < KEPT:
            received, topic, _, _, payload = stored_key(record)
            db.execute(
                "INSERT OR IGNORE INTO rejections (received_ms, topic, meter, reason, detail,"
                " payload, copy_no) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    received,
                    topic,
                    record.meter,
                    record.reason.value,
                    record.detail,
                    payload,
                    record.copy_no,
                ),
            )
            continue
        if not _is_kept(db, record):
            _count(db, (hour, record.reason.value, meter), record.received_ms, key)


def _count(db: sqlite3.Connection, bucket: tuple[int, str, str], at_ms: int, key: str) -> None:
    """Count one more rejection in its bucket unless this very message was counted already: the
    bucket keeps the digests of the messages counted at its latest millisecond."""
    row = db.execute(
        "SELECT count, last_ms, last_keys FROM rejections_counted"
        " WHERE hour_ms = ? AND reason = ? AND meter = ?",
        bucket,
    ).fetchone()
    count, last_ms, keys = row if row is not None else (0, -1, "")
    if at_ms < last_ms or (at_ms == last_ms and key in keys.split()):
        return
    keys = f"{keys} {key}" if at_ms == last_ms else key
    db.execute(
        "INSERT OR REPLACE INTO rejections_counted (hour_ms, reason, meter, count, last_ms,"
        " last_keys) VALUES (?, ?, ?, ?, ?, ?)",
        (*bucket, count + 1, at_ms, keys),
    )


def _kept_in(db: sqlite3.Connection, hour: int, reason: str, meter: str | None) -> int:
    query = (
        "SELECT COUNT(*) FROM rejections WHERE received_ms >= ? AND received_ms < ?"
        " AND reason = ? AND meter IS ?"
    )
    return db.execute(query, (hour, hour + MS_PER_HOUR, reason, meter)).fetchone()[0]


def _is_kept(db: sqlite3.Connection, record: RejectionRecord) -> bool:
    received, topic, meter, reason, payload = stored_key(record)
    query = (
        "SELECT 1 FROM rejections WHERE received_ms = ? AND COALESCE(topic, '') = ?"
        " AND COALESCE(meter, '') = ? AND reason = ? AND COALESCE(payload, x'') = ? AND copy_no = ?"
    )
    found = db.execute(
        query, (received, topic or "", meter or "", reason.value, payload or b"", record.copy_no)
    ).fetchone()
    return found is not None


def rejection_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rejections by reason, kept and counted."""
    counts: dict[str, int] = {}
    for reason, count in db.execute(
        "SELECT reason, COUNT(*) FROM rejections GROUP BY reason UNION ALL"
        " SELECT reason, SUM(count) FROM rejections_counted GROUP BY reason"
    ):
        counts[reason] = counts.get(reason, 0) + count
    return counts
