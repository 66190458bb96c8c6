"""What a writer loads at its start and keeps: each meter's values (what many meters hold alike
kept once), the engine state and open rows they resume from, and the state digest kept right by
commits that grow a row again and again (its old seal's share computed anew each time)."""

from pathlib import Path

from levy.ledger.store import Ledger, _kept_once
from tests.ledger.test_chain import verified
from tests.ledger.test_rerate import ms, open_engine, read, schedule

RATES = schedule(("2024-01-01T00:00+06:00", "2"))


def test_values_many_meters_hold_alike_are_kept_once() -> None:
    alike: dict = {}
    first = ("rig-1", "grid", 3600, "energy", 10, None, 20, 15, 7, None, 10)
    second = ("rig-2", "grid", 3600, "energy", 10, None, 30, 25, 9, None, 10)
    kept = [_kept_once(tuple(map(_copy, values)), alike) for values in (first, second)]
    assert kept == [first, second]
    for at in (1, 2, 3, 4):  # supply, rated_w, measure, start_ms
        assert kept[0][at] is kept[1][at]
    assert _kept_once((*first[:2], 3600.0, *first[3:]), alike)[2] == 3600.0  # by type and value
    assert type(_kept_once((*first[:2], 3600.0, *first[3:]), alike)[2]) is float


def _copy(value: object) -> object:
    """An equal object that is not the same one, as SQLite hands each row its own."""
    if isinstance(value, str):
        return "".join(list(value))
    if isinstance(value, int):
        return int(str(value))
    return value


def test_a_row_grown_by_many_commits_verifies_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
        engine = open_engine(ledger, RATES)
        for minute, register in ((0, "100"), (10, "100.1"), (20, "100.2"), (30, "100.3")):
            ledger.commit(engine.apply([read(f"2026-11-02T10:{minute:02d}+05:00", register)]))
        ledger.commit(engine.apply([read("2026-11-02T11:05+05:00", "100.9")]))
        states, rows = engine.states, engine.open_rows
    assert verified(path) == ["chain", "seals", "coverage", "totals", "closes", "state"]
    with Ledger(path) as ledger:
        assert ledger.states() == (states, rows)
