"""The raw archive: hourly replay files kept in step with the ledger's commits."""

import gzip
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

from collector.archive import ArchiveError, ArchivePosition, RawArchive, Record
from collector.feed import FeedError, FeedLine, read_feed
from tests.collector.support import utc_ms

SENSOR = b'{"ENERGY":{"Total":0.984,"Power":145}}'


def reading(received_ms: int, payload: bytes = SENSOR) -> Record:
    return received_ms, "tele/pow1/SENSOR", payload


def read(path: Path) -> list[Record]:
    """The messages of one archive file; every line must read back."""
    records = []
    for line in read_feed(path):
        assert isinstance(line, FeedLine), line
        records.append((line.received_ms, line.topic, line.payload))
    return records


def replay(archive: RawArchive) -> list[Record]:
    return [record for path in archive.files() for record in read(path)]


def names(archive: RawArchive) -> list[str]:
    return [path.name for path in archive.files()]


def test_a_batch_reads_back_exactly_and_splits_at_the_hour(tmp_path: Path) -> None:
    before = [
        reading(utc_ms(2026, 11, 24, 23, 59, 59) + 998),
        reading(utc_ms(2026, 11, 24, 23, 59, 59) + 998, b"\xff\x00\x80 not UTF-8"),
        reading(utc_ms(2026, 11, 24, 23, 59, 59) + 999, b""),
        (utc_ms(2026, 11, 24, 23, 59, 59) + 999, "$levy/sweep", b""),
    ]
    after = [
        reading(utc_ms(2026, 11, 25, 0, 0, 0)),
        (utc_ms(2026, 11, 25, 0, 0, 1), "tele/\udcff/SENSOR", SENSOR),  # topic bytes not UTF-8
    ]
    with RawArchive(tmp_path, retention_days=0) as archive:
        position = archive.append(before + after)

    first, second = archive.files()
    assert (first.name, second.name) == ("2026-11-24T23.jsonl", "2026-11-25T00.jsonl")
    assert read(first) == before
    # A topic that is not UTF-8 is archived as its bytes, but read back as a broken line: no
    # broker delivers one (MQTT topics are UTF-8), and the ledger could not store it.
    [line, refused] = read_feed(second)
    assert isinstance(line, FeedLine)
    assert (line.received_ms, line.topic, line.payload) == after[0]
    assert isinstance(refused, FeedError)
    assert "not UTF-8" in refused.problem
    assert position == ArchivePosition(second.name, second.stat().st_size)


def test_batches_append_to_the_open_file(tmp_path: Path) -> None:
    records = [reading(utc_ms(2026, 11, 24, 10, minute)) for minute in range(4)]
    with RawArchive(tmp_path, retention_days=0) as archive:
        for record in records[:3]:
            archive.append([record])
    with RawArchive(tmp_path, retention_days=0) as reopened:
        reopened.append(records[3:])

    assert names(reopened) == ["2026-11-24T10.jsonl"]
    assert replay(reopened) == records


def test_a_record_stamped_before_the_newest_file_goes_into_it(tmp_path: Path) -> None:
    """The clock stepped back: the journal's order is kept, not the file's hour."""
    records = [reading(utc_ms(2026, 11, 24, 11, 0, 5)), reading(utc_ms(2026, 11, 24, 10, 59, 59))]
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append(records[:1])
        archive.append(records[1:])

    assert names(archive) == ["2026-11-24T11.jsonl"]
    assert replay(archive) == records


def test_a_new_archive_creates_its_folder_and_has_no_position(tmp_path: Path) -> None:
    with RawArchive(tmp_path / "var" / "archive", retention_days=90) as archive:
        assert archive.directory.is_dir()
        assert archive.append([]) is None
        assert archive.files() == []


@pytest.mark.parametrize(
    "uncommitted",
    [
        [utc_ms(2026, 11, 24, 10, 59, 59)],
        [utc_ms(2026, 11, 24, 10, 59, 59), utc_ms(2026, 11, 24, 11, 0, 1)],
    ],
    ids=["same-hour", "spilled-into-the-next-hour"],
)
def test_recover_cuts_the_uncommitted_batch_off(tmp_path: Path, uncommitted: list[int]) -> None:
    committed = [reading(utc_ms(2026, 11, 24, 10, 59, 58))]
    crashed = RawArchive(tmp_path, retention_days=0)
    position = crashed.append(committed)
    crashed.append([reading(ms) for ms in uncommitted])
    crashed.close()

    with RawArchive(tmp_path, retention_days=0) as restarted:
        restarted.recover(position)
        assert names(restarted) == ["2026-11-24T10.jsonl"]
        assert restarted.position == position
        redelivered = [reading(ms + 50) for ms in uncommitted]
        restarted.append(redelivered)

    assert replay(restarted) == committed + redelivered


def test_recover_with_a_fresh_ledger_keeps_the_files_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append([reading(utc_ms(2026, 11, 24, 10, 0))])
        with caplog.at_level(logging.WARNING):
            archive.recover(None)

    assert names(archive) == ["2026-11-24T10.jsonl"]
    assert "no archive position" in caplog.text


@pytest.mark.parametrize(
    ("position", "problem"),
    [
        (ArchivePosition("2026-11-24T09.jsonl", 0), "missing"),
        (ArchivePosition("2026-11-24T10.jsonl", 10**6), "holds"),
        (ArchivePosition("2026-11-24T10.jsonl", 7), "not a line end"),
        (ArchivePosition("2026-11-24T10.jsonl.gz", 0), "not an uncompressed archive file"),
        (ArchivePosition("../2026-11-24T10.jsonl", 0), "not an uncompressed archive file"),
    ],
)
def test_recover_refuses_a_position_the_archive_does_not_hold(
    tmp_path: Path, position: ArchivePosition, problem: str
) -> None:
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append([reading(utc_ms(2026, 11, 24, 10, 0))])
        size = (tmp_path / "2026-11-24T10.jsonl").stat().st_size
        with pytest.raises(ArchiveError, match=problem):
            archive.recover(position)

    assert (tmp_path / "2026-11-24T10.jsonl").stat().st_size == size


def test_recover_refuses_a_ledger_older_than_the_archive(tmp_path: Path) -> None:
    """Compressed files after the position were committed once: cutting them off would
    destroy evidence (say an old ledger was restored from a backup)."""
    with RawArchive(tmp_path, retention_days=0) as archive:
        old = archive.append([reading(utc_ms(2026, 11, 24, 10, 0))])
        archive.append([reading(utc_ms(2026, 11, 24, 11, 0))])
        archive.append([reading(utc_ms(2026, 11, 24, 12, 0))])
        archive.rotate(utc_ms(2026, 11, 24, 12, 30))
        before = names(archive)
        with pytest.raises(ArchiveError, match="older than the archive"):
            archive.recover(old)

    assert names(archive) == before


def test_rotate_compresses_closed_hours_and_leaves_the_current_one(tmp_path: Path) -> None:
    records = [reading(utc_ms(2026, 11, 24, hour, 15)) for hour in (9, 10, 11)]
    with RawArchive(tmp_path, retention_days=0) as archive:
        for record in records:
            archive.append([record])
        archive.rotate(utc_ms(2026, 11, 24, 11, 30))
        archive.append([reading(utc_ms(2026, 11, 24, 11, 45))])

    assert names(archive) == [
        "2026-11-24T09.jsonl.gz",
        "2026-11-24T10.jsonl.gz",
        "2026-11-24T11.jsonl",
    ]
    assert sorted(os.listdir(tmp_path)) == names(archive)
    assert replay(archive) == [*records, reading(utc_ms(2026, 11, 24, 11, 45))]


def test_rotation_in_the_background_compresses_while_appends_go_on(tmp_path: Path) -> None:
    """The writer goes on with the current hour while the closed ones are gzipped beside it."""
    records = [reading(utc_ms(2026, 11, 24, hour, 15)) for hour in (9, 10, 11)]
    later = [reading(utc_ms(2026, 11, 24, 11, minute)) for minute in range(20, 60)]
    with RawArchive(tmp_path, retention_days=0) as archive:
        for record in records:
            archive.append([record])
        archive.rotate_in_background(utc_ms(2026, 11, 24, 11, 30))
        for record in later:
            archive.append([record])
        archive.wait_for_compression(10)

    assert names(archive) == [
        "2026-11-24T09.jsonl.gz",
        "2026-11-24T10.jsonl.gz",
        "2026-11-24T11.jsonl",
    ]
    assert replay(archive) == [*records, *later]


def test_rotate_keeps_the_newest_file_plain_after_its_hour(tmp_path: Path) -> None:
    """The ledger's position points into it, and recover can only cut a plain file."""
    with RawArchive(tmp_path, retention_days=1) as archive:
        position = archive.append([reading(utc_ms(2026, 11, 24, 10, 0))])
        archive.rotate(utc_ms(2026, 12, 24, 0, 0))
        archive.recover(position)

    assert names(archive) == ["2026-11-24T10.jsonl"]


def test_retention_deletes_files_whose_hour_ended_long_enough_ago(tmp_path: Path) -> None:
    with RawArchive(tmp_path, retention_days=1, may_delete=lambda start, end: True) as archive:
        for hour in (9, 10, 11):
            archive.append([reading(utc_ms(2026, 11, 24, hour, 15))])
        archive.rotate(utc_ms(2026, 11, 24, 11, 30))
        archive.append([reading(utc_ms(2026, 11, 25, 10, 15))])

        archive.rotate(utc_ms(2026, 11, 25, 10, 30))  # 09:00-10:00 ended 24 h 30 min ago
        assert names(archive) == [
            "2026-11-24T10.jsonl.gz",
            "2026-11-24T11.jsonl.gz",
            "2026-11-25T10.jsonl",
        ]
        archive.rotate(utc_ms(2026, 11, 25, 12, 0, 1))
        assert names(archive) == ["2026-11-25T10.jsonl"]


def test_retention_zero_keeps_everything(tmp_path: Path) -> None:
    with RawArchive(tmp_path, retention_days=0, may_delete=lambda start, end: True) as archive:
        for day in (1, 2):
            archive.append([reading(utc_ms(2020, 1, day, 0, 0))])
        archive.rotate(utc_ms(2026, 1, 1, 0, 0))

    assert names(archive) == ["2020-01-01T00.jsonl.gz", "2020-01-02T00.jsonl"]


def test_without_a_guard_retention_deletes_nothing(tmp_path: Path) -> None:
    """The evidence is kept unless the caller says which hours may go."""
    with RawArchive(tmp_path, retention_days=1) as archive:
        for day in (1, 2):
            archive.append([reading(utc_ms(2020, 1, day, 0, 0))])
        archive.rotate(utc_ms(2040, 1, 1, 0, 0))

    assert names(archive) == ["2020-01-01T00.jsonl.gz", "2020-01-02T00.jsonl"]


def test_the_guard_is_asked_about_each_expired_hour_and_a_kept_one_is_compressed(
    tmp_path: Path,
) -> None:
    asked: list[tuple[int, int]] = []

    def only_the_first_hour(start_ms: int, end_ms: int) -> bool:
        asked.append((start_ms, end_ms))
        return start_ms == utc_ms(2026, 11, 24, 9, 0)

    with RawArchive(tmp_path, retention_days=1, may_delete=only_the_first_hour) as archive:
        for hour in (9, 10, 11):
            archive.append([reading(utc_ms(2026, 11, 24, hour, 15))])
        archive.append([reading(utc_ms(2026, 11, 26, 0, 15))])
        archive.rotate(utc_ms(2026, 11, 25, 11, 30))  # 09:00 and 10:00 are past the retention

    assert asked == [
        (utc_ms(2026, 11, 24, 9, 0), utc_ms(2026, 11, 24, 10, 0)),
        (utc_ms(2026, 11, 24, 10, 0), utc_ms(2026, 11, 24, 11, 0)),
    ]
    assert names(archive) == [
        "2026-11-24T10.jsonl.gz",
        "2026-11-24T11.jsonl.gz",
        "2026-11-26T00.jsonl",
    ]


@pytest.mark.parametrize(
    ("target", "name", "left_behind"),
    [(os, "replace", "2026-11-24T09.jsonl.gz.tmp"), (Path, "unlink", "2026-11-24T09.jsonl.gz")],
    ids=["before its rename", "before its unlink"],
)
def test_a_rotation_stopped_midway_loses_nothing_and_lists_each_hour_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: object, name: str, left_behind: str
) -> None:
    records = [reading(utc_ms(2026, 11, 24, hour, 15)) for hour in (9, 10)]
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append(records[:1])
        archive.append(records[1:])
        with monkeypatch.context() as patched:
            patched.setattr(target, name, crash)
            with pytest.raises(OSError, match="power cut"):
                archive.rotate(utc_ms(2026, 11, 24, 10, 30))

        assert (tmp_path / left_behind).exists()
        assert names(archive) == ["2026-11-24T09.jsonl", "2026-11-24T10.jsonl"]
        assert replay(archive) == records

        archive.rotate(utc_ms(2026, 11, 24, 10, 30))

    assert sorted(os.listdir(tmp_path)) == ["2026-11-24T09.jsonl.gz", "2026-11-24T10.jsonl"]
    assert replay(archive) == records


def test_files_are_listed_in_time_order(tmp_path: Path) -> None:
    expected = [
        "2026-12-31T09.jsonl.gz",
        "2026-12-31T10.jsonl",
        "2026-12-31T23.jsonl.gz",
        "2027-01-01T00.jsonl",
    ]
    foreign = ["2027-01-01T01.jsonl.gz.tmp", "2026-13-01T00.jsonl", "notes.txt", "2026-12-31.jsonl"]
    for name in [*reversed(expected), *foreign]:
        (tmp_path / name).touch()

    assert names(RawArchive(tmp_path, retention_days=0)) == expected


def test_the_archive_never_appends_to_a_compressed_file(tmp_path: Path) -> None:
    """Only a hand outside the archive makes the newest file a `.gz`: lines go to a new file."""
    compressed = tmp_path / "2026-11-24T10.jsonl.gz"
    compressed.write_bytes(gzip.compress(b"", mtime=0))
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append([reading(utc_ms(2026, 11, 24, 10, 30))])

    assert names(archive) == ["2026-11-24T10.jsonl.gz", "2026-11-24T11.jsonl"]
    assert compressed.read_bytes() == gzip.compress(b"", mtime=0)


def crash(*args: object) -> None:
    raise OSError("power cut")


def test_a_folder_deleted_between_appends_is_said_recreated_and_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "archive" / "site"
    records = [reading(utc_ms(2026, 11, 24, 10, minute)) for minute in range(3)]
    with RawArchive(folder, retention_days=0) as archive:
        archive.append(records[:1])
        assert (archive.damaged, archive.losses) == (None, 0)
        shutil.rmtree(tmp_path / "archive")

        position = archive.append(records[1:2])
        fresh = folder / "2026-11-24T10.jsonl"
        assert position == ArchivePosition(fresh.name, fresh.stat().st_size)
        archive.append(records[2:])

    assert archive.losses == 1
    assert archive.damaged is not None and str(folder) in archive.damaged
    assert "vanished" in archive.damaged
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(folder) in error.getMessage()
    assert "gone from the evidence" in error.getMessage()
    assert replay(archive) == records[1:], "the rest is written, into a fresh file"


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_file_deleted_or_replaced_while_open_is_said_and_a_fresh_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    records = [reading(utc_ms(2026, 11, 24, 10, minute)) for minute in range(3)]
    with RawArchive(tmp_path, retention_days=0) as archive:
        archive.append(records[:1])
        [current] = archive.files()
        current.unlink()
        if how == "replaced":
            current.write_bytes(b"")
        archive.append(records[1:2])
        archive.append(records[2:])

    assert archive.losses == 1
    assert (
        archive.damaged
        == f"the file {current} {'vanished' if how == 'deleted' else 'was replaced'} while the daemon was writing to it"
    )
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert replay(archive) == records[1:]


def test_a_rotation_after_the_folder_vanished_recreates_it(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    with RawArchive(folder, retention_days=0) as archive:
        archive.append([reading(utc_ms(2026, 11, 24, 10))])
        shutil.rmtree(folder)
        archive.rotate(utc_ms(2026, 11, 24, 12))
        assert folder.is_dir() and archive.losses == 1
        archive.append([reading(utc_ms(2026, 11, 24, 12))])
    assert archive.losses == 1, "said once"
    assert names(archive) == ["2026-11-24T12.jsonl"]


def test_files_and_folder_are_not_for_every_account(tmp_path: Path) -> None:
    """0640 files and a 0750 folder whatever the umask allows: the evidence stays with the
    daemon's user and group."""
    previous = os.umask(0o002)
    try:
        folder = tmp_path / "site"
        with RawArchive(folder, retention_days=0) as archive:
            archive.append([reading(utc_ms(2026, 11, 24, 10))])
            archive.append([reading(utc_ms(2026, 11, 24, 11))])
            archive.rotate(utc_ms(2026, 11, 24, 12))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    assert modes == {"2026-11-24T10.jsonl.gz": 0o640, "2026-11-24T11.jsonl": 0o640}
