"""`levy-monitor replay` as a process: each mistake in its input is one plain line on stderr and
exit 2, with times in ISO 8601 in the site zone, and leaves no file behind (no new ledger, no
-wal, -shm or lock file, no folder) or, onto an existing ledger, that ledger as it was. And the
summary adds up: every line read is accepted, rejected by reason, ignored by kind or malformed."""

import re
from datetime import datetime
from pathlib import Path

import pytest

from collector.archive import RawArchive
from collector.feed import format_feed_line
from levy.app.journal import BATCH, START, SWEEP
from levy.core.units import datetime_to_ms
from tests.app.scenario import ALMATY, native, write_feed, write_site
from tests.live.harness import levy

LEDGER = Path("var") / "october-demo.sqlite"
"""Where the demo site's ledger is, beside its TOML."""


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder below `folder`."""
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def refused(folder: Path, *argv: str) -> str:
    """Run a command that must fail on its input: exit 2, nothing on stdout, one plain line on
    stderr, and every file and folder below `folder` as it was. Returns the line."""
    before = tree(folder)
    done = levy(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("levy-monitor: ")
    assert tree(folder) == before
    return lines[0].removeprefix("levy-monitor: ")


def nothing_recorded(config: Path) -> None:
    done = levy("report", "-c", str(config), "--period", "2026-10")
    assert done.returncode == 2
    assert "nothing has been recorded for this site yet" in done.stderr


def iso(text: str) -> datetime:
    """A local time at the demo site."""
    return datetime.fromisoformat(text).replace(tzinfo=ALMATY)


def feed_line(moment: str, topic: str, payload: bytes) -> str:
    return format_feed_line(datetime_to_ms(iso(moment)), topic, payload)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The demo site (its ledger a relative path, so it lands in tmp_path) and a short feed."""
    config = write_site(tmp_path)
    lines = [
        feed_line(f"2026-10-01T00:{minute:02d}", "mining/scenario-1/rig-1", payload)
        for minute, payload in (
            (0, native(iso("2026-10-01T00:00"), 1000)),
            (10, native(iso("2026-10-01T00:10"), 1000.5)),
        )
    ]
    (tmp_path / "short.jsonl").write_text("\n".join(lines) + "\n")
    return config


def test_an_empty_feed_is_named_and_leaves_no_ledger(site: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(tmp_path / "empty.jsonl"))
    assert message == f"{tmp_path / 'empty.jsonl'} holds no messages: it is empty"
    assert "accounting start" not in message
    nothing_recorded(site)


def test_a_feed_of_malformed_lines_holds_no_messages(site: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.jsonl").write_text("not json\n{}\n")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(tmp_path / "junk.jsonl"))
    assert message == (
        f"{tmp_path / 'junk.jsonl'} holds no messages: all its 2 lines are malformed "
        "(line 1: not JSON: Expecting value: line 1 column 1 (char 0))"
    )
    nothing_recorded(site)


def test_an_empty_feed_among_others_is_named(site: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    short, empty = tmp_path / "short.jsonl", tmp_path / "empty.jsonl"
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(short), "-i", str(empty))
    assert message == f"{empty} holds no messages: it is empty"


def test_an_archive_folder_without_archive_files_is_named(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an hour of the archive")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(folder))
    assert message == (
        f"{folder} holds no archive files (the daemon's hourly YYYY-MM-DDTHH.jsonl and "
        ".jsonl.gz): nothing to replay"
    )
    nothing_recorded(site)


def test_an_archive_folder_of_empty_hours_holds_no_messages(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "2026-10-01T00.jsonl").write_text("")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(folder))
    assert message == f"{folder} (1 archive file) holds no messages: it is empty"


def test_a_missing_input_is_named(site: Path, tmp_path: Path) -> None:
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(tmp_path / "gone"))
    assert message == f"cannot read {tmp_path / 'gone'}: No such file or directory"


def test_until_before_from_is_refused_in_the_site_zone(site: Path, tmp_path: Path) -> None:
    short = str(tmp_path / "short.jsonl")
    message = refused(
        tmp_path,
        *("replay", "-c", str(site), "-i", short),
        *("--from", "2026-10-05", "--until", "2026-10-04T12:00:00Z"),
    )
    assert message == (
        "--until 2026-10-04T17:00:00+05:00 is not after --from 2026-10-05T00:00:00+05:00"
    )
    message = refused(
        tmp_path,
        *("replay", "-c", str(site), "-i", short),
        *("--from", "2026-10-05", "--until", "2026-10-05"),
    )
    assert message.startswith("--until 2026-10-05T00:00:00+05:00 is not after --from")
    nothing_recorded(site)


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (("--from", "2026-10-02"), "at or after --from 2026-10-02T00:00:00+05:00"),
        (("--until", "2026-09-30T23:00"), "at or before --until 2026-09-30T23:00:00+05:00"),
        (
            ("--from", "2026-10-01T00:01", "--until", "2026-10-01T00:09"),
            "between --from 2026-10-01T00:01:00+05:00 and --until 2026-10-01T00:09:00+05:00",
        ),
    ],
)
def test_a_feed_with_no_line_in_the_window_is_refused(
    site: Path, tmp_path: Path, window: tuple[str, ...], words: str
) -> None:
    short = tmp_path / "short.jsonl"
    message = refused(tmp_path, "replay", "-c", str(site), "-i", str(short), *window)
    assert message == (
        f"no line of {short} is {words}: its lines run from 2026-10-01T00:00:00+05:00 to "
        "2026-10-01T00:10:00+05:00"
    )
    nothing_recorded(site)


def test_a_failure_after_the_ledger_was_made_takes_it_away(site: Path, tmp_path: Path) -> None:
    """An accounting start before the first rate is found only once the ledger is open: what
    this run made (the ledger, its companions, the var folder) goes again."""
    short = str(tmp_path / "short.jsonl")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", short, "--from", "2023-06-01")
    assert message == (
        "the accounting start 2023-06-01T00:00:00+06:00 is before the first levy rate "
        "(2024-01-01T00:00:00+06:00)"
    )
    assert not (tmp_path / "var").exists()
    nothing_recorded(site)


def test_a_ledger_that_is_not_a_ledger_is_left_as_it_is(site: Path, tmp_path: Path) -> None:
    ledger = tmp_path / LEDGER
    ledger.parent.mkdir()
    ledger.write_bytes(b"my holiday photos " * 100)
    short = str(tmp_path / "short.jsonl")
    message = refused(tmp_path, "replay", "-c", str(site), "-i", short)
    assert message == f"{ledger} is not a levy ledger (not an SQLite database)"


def test_a_replay_that_fails_leaves_an_existing_ledger_unchanged(
    site: Path, tmp_path: Path
) -> None:
    short = str(tmp_path / "short.jsonl")
    done = levy("replay", "-c", str(site), "-i", short)
    assert done.returncode == 0, done.stderr
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "archive").mkdir()
    replay = ("replay", "-c", str(site))
    refused(tmp_path, *replay, "-i", str(tmp_path / "empty.jsonl"))
    refused(tmp_path, *replay, "-i", str(tmp_path / "archive"))
    refused(tmp_path, *replay, "-i", short, "--from", "2026-10-03")
    refused(tmp_path, *replay, "-i", short, "--from", "2026-10-03", "--until", "2026-10-02")
    message = refused(tmp_path, *replay, "-i", short, "--from", "2026-10-01T00:05")
    assert message == (
        f"ledger {tmp_path / LEDGER} keeps accounts from 2026-10-01T00:00:00+05:00; a different "
        "accounting start (2026-10-01T00:05:00+05:00) was asked for"
    )


def summary_sum(out: str) -> tuple[int, list[tuple[str, int]]]:
    """The first line, `lines read N = a A + b B ...`, as N and its terms."""
    head = out.splitlines()[0]
    match = re.fullmatch(r"lines read +(\d+) = (.*)", head)
    assert match, head
    terms = [(name, int(count)) for name, count in re.findall(r"([a-z]+) (\d+)", match[2])]
    return int(match[1]), terms


def test_the_summary_adds_up(site: Path, tmp_path: Path) -> None:
    """The demo month, a device's availability and companion topics, lines after --until: each
    line is counted once, by reason or kind, and the meters rejecting most are named."""
    feed = tmp_path / "feed.jsonl"
    read = write_feed(feed)
    extra = [
        feed_line("2026-10-12T10:00", "tele/rig-2/LWT", b"Offline"),
        feed_line("2026-10-12T10:05", "tele/rig-2/LWT", b"Online"),
        feed_line("2026-10-12T10:06", "tele/rig-2/STATE", b'{"Uptime": "1T00:00:00"}'),
    ]
    with feed.open("a") as file:
        file.write("\n".join(extra) + "\n")
    done = levy("replay", "-c", str(site), "-i", str(feed), "--until", "2026-11-01T00:10")
    assert done.returncode == 0, done.stderr
    total, terms = summary_sum(done.stdout)
    assert total == read + len(extra) == sum(count for _, count in terms)
    # three rigs report at 00:20, after --until; rig-4 is never heard from
    assert done.stdout.splitlines() == [
        f"lines read        {total} = accepted {read - 3 - 1 - 3} + rejected 3 + ignored 6"
        " + malformed 1",
        "rejected          1 duplicate",
        "rejected          1 non_finite",
        "rejected          1 unknown_meter",
        "ignored           3 after --until",
        "ignored           2 availability",
        "ignored           1 companion topic",
        "rejecting most    rig-1: 1 non_finite",
        "accounted to      2026-11-01T00:10:00+05:00",
    ]
    assert "line 5001: not JSON" in done.stderr


def test_an_archive_replay_says_how_far_it_accounted(site: Path, tmp_path: Path) -> None:
    """The daemon's archive: its journal lines are a term of the sum, and it is accounted to its
    last journaled sweep."""
    folder = tmp_path / "archive"
    records = [(datetime_to_ms(iso("2026-10-01T00:00")), START, b"")]
    for minute in range(0, 60, 10):
        moment = iso(f"2026-10-01T00:{minute:02d}")
        ms = datetime_to_ms(moment)
        payload = native(moment, 1000 + minute)
        records += [(ms, "mining/scenario-1/rig-1", payload), (ms, BATCH, b"")]
        if minute in (20, 50):
            records.append((ms + 1000, SWEEP, b""))
    with RawArchive(folder, retention_days=0) as archive:
        archive.append(records)
    done = levy("replay", "-c", str(site), "-i", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "lines read        15 = accepted 6 + rejected 0 + ignored 0 + malformed 0 + journal 9",
        "accounted to      2026-10-01T00:50:01+05:00",
    ]
