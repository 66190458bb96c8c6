"""The rejection log is bounded per hour, reason and meter, counts the rest, and a replay of the
same messages changes nothing."""

from pathlib import Path

from levy.core.engine import Changes
from levy.core.model import RejectReason
from levy.ledger.rejections import KEPT, number_copies
from levy.ledger.store import Ledger, RejectionRecord

HOUR = 3_600_000
BASE = 1_790_000_000_000 // HOUR * HOUR


def garbage(
    count: int, start: int, topic: str = "t/rig", meter: str | None = "rig"
) -> list[RejectionRecord]:
    return [
        RejectionRecord(start + n, RejectReason.BAD_JSON, "not JSON", topic, meter, b"{")
        for n in range(count)
    ]


def table(ledger: Ledger, query: str) -> list[tuple]:
    return ledger.db.execute(query).fetchall()


def test_a_flood_keeps_the_first_few_per_hour_and_counts_the_rest(tmp_path: Path) -> None:
    records = garbage(25, BASE) + garbage(3, BASE + HOUR) + garbage(12, BASE, "t/ghost", None)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for _ in range(2):
            ledger.commit(Changes(), number_copies(records))
        kept = table(
            ledger, "SELECT meter, COUNT(*) FROM rejections GROUP BY received_ms / 3600000, meter"
        )
        counted = table(
            ledger, "SELECT hour_ms, meter, count FROM rejections_counted ORDER BY 1, 2"
        )
        assert sorted(kept, key=repr) == sorted([("rig", KEPT), ("rig", 3), (None, KEPT)], key=repr)
        assert counted == [(BASE, "", 2), (BASE, "rig", 15)]
        assert ledger.rejection_counts() == {"bad_json": 40}


def test_identical_copies_in_one_batch_are_each_logged(tmp_path: Path) -> None:
    same = garbage(1, BASE) * 3
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.commit(Changes(), number_copies(same))
        ledger.commit(Changes(), number_copies(same))
        assert ledger.rejection_counts() == {"bad_json": 3}


def test_a_long_topic_is_stored_cut(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.commit(Changes(), number_copies(garbage(1, BASE, "x" * 65_000)))
        [(length,)] = table(ledger, "SELECT LENGTH(topic) FROM rejections")
        assert length == 256
