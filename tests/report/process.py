"""`levy-monitor` as a separate process, as a user runs it, and the folder it ran on: what it
printed (stdout as bytes: the CSV's byte order mark is part of it) and every file beside it."""

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = ROOT / "config" / "october-demo.jsonl.gz"
SILENT_LINE = '{"tst": "2026-10-01T00:00:00Z+0500", "topic": "nobody", "payload": "{}"}\n'
"""A feed in which no meter is heard from (one message on no meter's topic)."""


@dataclass
class Done:
    status: int
    stdout: bytes
    err: str

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")


def levy(folder: Path, *argv: str, **env: str) -> Done:
    """Run in `folder`, with this checkout's code whatever is installed."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-m", "levy", *argv],
        capture_output=True,
        timeout=120,
        cwd=folder,
        env=environment,
    )
    return Done(done.returncode, done.stdout, done.stderr.decode("utf-8"))


def ok(folder: Path, *argv: str, **env: str) -> Done:
    done = levy(folder, *argv, **env)
    assert done.status == 0, done.err
    return done


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its content's digest."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_refused(done: Done, message: str | None = None) -> None:
    """Exit 2, nothing on stdout, one plain line on stderr (no traceback)."""
    assert done.status == 2, (done.status, done.err)
    assert done.stdout == b""
    lines = done.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("levy-monitor: "), done.err
    assert "Traceback" not in done.err
    if message is not None:
        assert lines[0] == f"levy-monitor: {message}"


def copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to
