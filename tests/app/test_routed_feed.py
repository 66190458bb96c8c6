"""Replay's reading process: what it sends arrives as it was made, its failure is the replay's
plain error, and a process that dies says so."""

import gzip
import os
import pickle
from collections.abc import Iterator

import pytest

from collector.feed import CutPayload, FeedLine
from collector.message import Message
from collector.router import StatusChange
from levy.app.errors import UsageError
from levy.app.ingest import Ignored, Routed
from levy.app.routed_feed import (
    BatchLines,
    BatchRouted,
    FeedEnd,
    Lines,
    RoutedBatch,
    Sent,
    Start,
    lines_size,
    packed,
    read_apart,
)
from levy.core.model import Availability, Reading, RejectReason
from levy.ledger.rejections import RejectionRecord

CUT = CutPayload(b'{"energy_kwh": 1', 70_000, "ab" * 32)
LINES = Lines(
    [FeedLine(1, 1_000, "site/a", b'{"energy_kwh": 1}'), FeedLine(2, 2_000, "site/b", CUT)]
)
ROUTED = Routed(
    [Reading("a", 900, 1_000, 3_600_000, None, False), Reading("b", 1_500, 2_000, None, 5, True)],
    [0, 0],
    [2, 0],
    [None, "oversized"],
    {},
    {"b": StatusChange("b", Availability.ONLINE)},
    [RejectionRecord(2_000, RejectReason.OVERSIZED, "too big", "site/b", "b", CUT)],
    2_000,
)


def produced() -> Iterator[Sent]:
    yield Start(1_000)
    yield BatchLines(LINES, 2)
    yield BatchRouted(ROUTED, 2)
    yield FeedEnd(lines=2, last_ms=2_000)


def test_a_batch_arrives_as_it_was_made():
    start, batch, end = list(read_apart(produced()))
    assert start == Start(1_000) and end == FeedEnd(lines=2, last_ms=2_000)
    assert isinstance(batch, RoutedBatch)
    messages = [Message(line.received_ms, line.topic, line.payload) for line in LINES]
    assert list(batch.lines) == messages and len(batch.lines[1].payload) == 70_000
    for name in Routed.__slots__:
        assert getattr(batch.routed, name) == getattr(ROUTED, name), name


def test_a_batch_routed_whole_crosses_as_one_and_an_idle_message_keeps_its_kind():
    routed = Routed([], [], [0], [None], {0: Ignored.COMPANION}, latest_ms=5)
    events = read_apart(iter([RoutedBatch(Lines(LINES[:1]), routed), FeedEnd(lines=1)]))
    batch, _ = list(events)
    assert isinstance(batch, RoutedBatch) and list(batch.lines) == [
        Message(1_000, "site/a", LINES[0].payload)
    ]
    assert batch.routed.idle == {0: Ignored.COMPANION} and batch.routed.readings == []


def failing() -> Iterator[Sent]:
    yield Start(1_000)
    raise UsageError("cannot read feed.jsonl: Permission denied")


def test_the_reading_process_failing_is_the_replays_plain_error():
    events = read_apart(failing())
    assert next(events) == Start(1_000)
    with pytest.raises(UsageError, match=r"^cannot read feed\.jsonl: Permission denied$"):
        next(events)


def dying() -> Iterator[Sent]:
    yield Start(1_000)
    os._exit(9)


def test_a_reading_process_that_dies_is_said_to_have_stopped():
    with pytest.raises(UsageError, match=r"reading process \(pid \d+\) stopped before the end"):
        list(read_apart(dying()))


def test_topics_and_payloads_cross_packed_and_a_cut_payload_as_itself():
    plain = Lines(FeedLine(n, 1_000 + n, f"site/é{n}", b"x" * n) for n in range(5))
    lines = pickle.loads(pickle.dumps(BatchLines(plain, 5))).lines
    assert [(m.topic, m.payload) for m in lines] == [(m.topic, m.payload) for m in plain]
    assert lines[1:3] == [Message(1_001, "site/é1", b"x"), Message(1_002, "site/é2", b"xx")]
    assert packed([line.payload for line in LINES]) == [LINES[0].payload, CUT]


def test_a_large_input_is_read_apart_compressed_or_not(tmp_path):
    lines = b"".join(
        b'{"tst":"2026-10-01T00:00:00Z","topic":"a","payload":"{}"}\n' for _ in range(999)
    )
    plain, packed_gz = tmp_path / "feed.jsonl", tmp_path / "feed.jsonl.gz"
    plain.write_bytes(lines)
    packed_gz.write_bytes(gzip.compress(lines))
    assert lines_size(plain) == lines_size(packed_gz) == len(lines) > 20 * packed_gz.stat().st_size
    assert lines_size(tmp_path / "missing.jsonl") == 0
