"""The pure parts of tamper evidence: the canonical encoding, blocks, the additive state digest
kept incrementally (equal to the digest from scratch whatever the commits), a commit that writes
nothing records nothing, an older ledger sealed as found, and keys that sign close records."""

import contextlib
import gzip
import io
import shutil
import sqlite3
from dataclasses import astuple, fields, replace
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levy.cli import main
from levy.core.engine import Changes
from levy.ledger.chain import GENESIS, Block, Record, blocks, digest_of, head, stored_digest
from levy.ledger.rerate import store_schedule
from levy.ledger.schema import migrate
from levy.ledger.seal import FIELDS, canonical, canonical_object, seal
from levy.ledger.signing import KeyFileError, load_public_key, load_signer, signature_holds
from levy.ledger.store import Ledger
from levy.ledger.verify import Scope, Verifier
from tests.app.scenario import write_site
from tests.app.test_replay_properties import feeds, replayed
from tests.ledger.test_migration import FIXTURE
from tests.ledger.test_rerate import CALENDAR, ms, open_engine, read, schedule


def test_the_canonical_encoding_is_sorted_compact_json_with_the_table_named() -> None:
    values = ["Риг 1", 1790794800000, 1790798400000, 0, 7200000000, 0, 3600, "2", 0]
    assert canonical("intervals", values).decode() == (
        '{"end_ms":1790798400000,"energy_mj":7200000000,"kind":0,"meter":"Риг 1","rate":"2",'
        '"rated_w":3600,"role":0,"start_ms":1790794800000,"supply":0,"t":"intervals"}'
    )
    assert canonical("blind_spans", [1, None]) == b'{"end_ms":null,"start_ms":1,"t":"blind_spans"}'
    assert canonical("blind_spans", [1, b"\x01"]) == (
        b'{"end_ms":"x\'01\'","start_ms":1,"t":"blind_spans"}'
    )
    with pytest.raises(ValueError):
        canonical("blind_spans", [1])


values = st.none() | st.integers(-(2**63), 2**63 - 1) | st.text() | st.binary(max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=len(FIELDS["intervals"]), max_size=len(FIELDS["intervals"])))
def test_the_fast_encoding_is_the_documented_one(fields_values) -> None:
    """Byte for byte json.dumps with sorted keys, no spaces, non-ASCII as is (seal.py)."""
    document = {"t": "intervals", **dict(zip(FIELDS["intervals"], fields_values, strict=True))}
    assert canonical("intervals", fields_values) == canonical_object(document)


def test_a_seal_covers_each_field_and_its_type() -> None:
    values = ["rig-1", 0, 600, 0, 5, 0, 3600, "2", 0]
    sealed = seal("intervals", values)
    for index in range(len(values)):
        edited = list(values)
        edited[index] = "2.0" if isinstance(values[index], str) else values[index] + 1
        assert seal("intervals", edited) != sealed
    assert seal("intervals", [*values[:-2], 2, 0]) != sealed  # the rate as a number


def test_a_blocks_hash_covers_every_field() -> None:
    block = Block(1, 0, 1, 1, 1, 0, GENESIS, GENESIS, GENESIS).sealed()
    for field in fields(Block):
        if field.name == "hash":
            continue
        value = getattr(block, field.name)
        edited = replace(block, **{field.name: value + 1 if isinstance(value, int) else "ff"})
        assert edited.computed_hash() != block.hash, field.name


def empty_ledger() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    migrate(db)
    return db


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, 3) | st.none()), max_size=6),
        max_size=12,
    )
)
def test_the_running_state_digest_equals_the_digest_from_scratch(commits) -> None:
    """Items keyed 0..8 written (a version) or removed (None) by a sequence of commits."""
    db = empty_ledger()
    items: dict[int, bytes] = {}
    recorded = 0
    for number, changes in enumerate(commits, start=1):
        record = Record(db, number)
        for key, version in changes:
            new = None if version is None else seal("blind_spans", [key, version])
            record.replace(items.get(key), new)
            if new is None:
                items.pop(key, None)
            else:
                items[key] = new
        if record.finish() is not None:
            recorded += 1
        assert stored_digest(db) == digest_of(list(items.values()))
    chain = blocks(db)
    assert sum(block.commits for block in chain) == recorded
    assert all(block.hash == block.computed_hash() for block in chain)


def test_a_commit_that_writes_nothing_records_nothing(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
        before = head(ledger.db)
        ledger.commit(Changes())
        ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
        assert head(ledger.db) == before
        assert before is not None and before.commits == 1


def verified(path: Path) -> list[str]:
    with Ledger(path, writer=False) as ledger:
        return [passed.check for passed in Verifier(ledger, CALENDAR, Scope()).checks()]


def test_a_rerated_ledger_verifies(tmp_path: Path) -> None:
    """The totals the re-rating sums anew equal the GROUP BY of its rows, cut rows resealed."""
    before = schedule(("2024-01-01T00:00+06:00", "2"))
    after = schedule(("2024-01-01T00:00+06:00", "2"), ("2026-11-02T10:30+05:00", "3"))
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
        store_schedule(ledger, CALENDAR, before, before.boundaries[0])
        engine = open_engine(ledger, before)
        readings = [read("2026-11-02T10:00+05:00", "100"), read("2026-11-02T11:00+05:00", "101")]
        ledger.commit(engine.apply(readings))
        store_schedule(ledger, CALENDAR, after, ms("2026-11-02T10:30+05:00"))
        engine = open_engine(ledger, after)
        ledger.commit(engine.apply([read("2026-11-02T11:30+05:00", "101.8")]))
    assert verified(path) == ["chain", "seals", "coverage", "totals", "closes", "state"]


def test_a_ledger_from_before_the_chain_is_sealed_as_found_in_block_1(tmp_path: Path) -> None:
    write_site(tmp_path)
    path = tmp_path / "var" / "october-demo.sqlite"
    path.parent.mkdir()
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    with Ledger(path) as ledger:
        first = blocks(ledger.db)
        rows = ledger.db.execute("SELECT COUNT(*) FROM intervals WHERE seal IS NULL").fetchone()
    assert [astuple(block)[:5] for block in first] == [(1, first[0].hour_ms, 1, 1, 1)]
    assert rows == (0,)
    assert verified(path)[-1] == "state"


@settings(max_examples=15, deadline=None)
@given(st.lists(feeds(), min_size=1, max_size=3), st.booleans())
def test_random_replays_and_closes_keep_a_ledger_that_verifies(runs, close) -> None:
    """Each run is replayed in turn (commits of their own), October closed or not: the running
    digest equals the digest from scratch, totals and coverage hold."""
    with TemporaryDirectory() as folder:
        config = replayed(folder, runs)
        if close:
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["close", "-c", str(config), "--period", "2026-10"]) == 0
        assert len(verified(Path(folder) / "var" / "prop.sqlite")) == 6


def test_keys_load_from_pem_or_raw_bytes_and_sign_what_they_signed_only(tmp_path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["keygen", "--out", str(tmp_path / "k.pem")]) == 0
    signer = load_signer(tmp_path / "k.pem")
    raw = signer.key.private_bytes_raw()
    (tmp_path / "k.raw").write_bytes(raw)
    assert load_signer(tmp_path / "k.raw").public_key == signer.public_key
    signature = signer.sign(b"closed")
    assert signature_holds(signer.public_key, signature, b"closed")
    assert not signature_holds(signer.public_key, signature, b"closes")
    assert not signature_holds(signer.public_key, "zz", b"closed")
    (tmp_path / "k.hex").write_text(signer.public_key + "\n")
    (tmp_path / "k.pub").write_bytes(bytes.fromhex(signer.public_key))
    assert load_public_key(tmp_path / "k.hex") == load_public_key(tmp_path / "k.pub")
    for wrong in (b"", b"x" * 31, b"-----BEGIN PRIVATE KEY-----\n"):
        (tmp_path / "w").write_bytes(wrong)
        with pytest.raises(KeyFileError):
            load_signer(tmp_path / "w")
    with pytest.raises(KeyFileError, match="cannot read"):
        load_signer(tmp_path / "missing")
