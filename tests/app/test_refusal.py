"""A ledger that is not a ledger is refused with one plain message, and nothing is written: an
emptied file, a foreign file, a corrupted page, a lost ledger beside its archive."""

import sqlite3
from pathlib import Path

import pytest

from levy.cli import main
from tests.app.scenario import write_feed, write_site

COMMANDS = [
    ("report", "--period", "2026-10"),
    ("close", "--period", "2026-10"),
    ("run",),
]


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    config = write_site(tmp_path)
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    return config, tmp_path / "var" / "october-demo.sqlite"


def refused(config: Path, command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main([command[0], "-c", str(config), *command[1:]]) == 2, command
    message = capsys.readouterr().err
    assert "Traceback" not in message and message.count("\n") == 1, message
    return message


@pytest.mark.parametrize("command", [*COMMANDS, ("replay", "-i", "feed.jsonl")])
def test_an_emptied_ledger_is_refused_and_left_as_it_is(site, command, capsys):
    config, ledger = site
    ledger.parent.mkdir()
    ledger.write_bytes(b"")
    command = tuple(str(config.parent / part) if part == "feed.jsonl" else part for part in command)
    assert "is empty (0 bytes)" in refused(config, command, capsys)
    assert ledger.read_bytes() == b""


@pytest.mark.parametrize("command", COMMANDS)
def test_a_foreign_database_is_refused(site, command, capsys):
    config, ledger = site
    ledger.parent.mkdir()
    db = sqlite3.connect(ledger)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    assert "not a levy ledger" in refused(config, command, capsys)


def test_a_corrupted_page_is_refused_naming_the_ledger(site, capsys):
    config, ledger = site
    assert main(["replay", "-c", str(config), "-i", str(config.parent / "feed.jsonl")]) == 0
    db = sqlite3.connect(ledger)
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'totals'").fetchone()
    db.close()
    data = bytearray(ledger.read_bytes())
    page = 4096
    data[(root - 1) * page : (root - 1) * page + 200] = b"\xff" * 200  # what a report reads
    ledger.write_bytes(bytes(data))
    message = refused(config, ("report", "--period", "2026-10"), capsys)
    assert str(ledger) in message


def test_a_lost_ledger_beside_its_archive_is_refused(site, capsys):
    config, ledger = site
    archive = config.parent / "var" / "archive" / "scenario-1"
    archive.mkdir(parents=True)
    (archive / "2026-10-01T00.jsonl").write_text("")
    message = refused(config, ("run",), capsys)
    assert "replay -i" in message
    assert not ledger.exists()
