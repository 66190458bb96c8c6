"""What `report --format pdf|html` refuses, each with one plain line and exit 2: a PDF to a
terminal, a pack over several sites, a file it cannot write (leaving nothing behind)."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.scenario import write_site
from tests.report.process import DEMO_FEED, ROOT, assert_refused, copy, levy, ok, snapshot

MONTH = ["report", "-c", "site.toml", "--period", "2026-10"]


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("refusals")
    write_site(folder)
    ok(folder, "replay", "-c", "site.toml", "-i", str(DEMO_FEED))
    return folder


def test_a_pdf_is_not_sent_to_a_terminal(october):
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "levy", *MONTH, "--format", "pdf"],
            stdout=terminal,
            stderr=subprocess.PIPE,
            cwd=october,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
        os.set_blocking(controller, False)
        with pytest.raises(BlockingIOError):
            os.read(controller, 1024)  # nothing reached the terminal
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "levy-monitor: a PDF is not for a terminal: give --output FILE or redirect stdout\n"
    )


def test_a_pack_is_one_sites_and_a_file_it_cannot_write_is_refused(october, tmp_path):
    other = copy(october, tmp_path / "other")
    (other / "site.toml").write_text(
        (other / "site.toml").read_text().replace('id = "scenario-1"', 'id = "scenario-2"')
    )
    before = snapshot(october)
    several = ["report", "-c", "site.toml", "-c", str(other / "site.toml"), "--period", "2026-10"]
    done = levy(october, *several, "--format", "pdf", "--output", "x.pdf")
    assert_refused(done, "--format pdf is one site's filing pack: give one -c")
    missing = tmp_path / "no-such-folder" / "pack.pdf"
    done = levy(october, *MONTH, "--format", "pdf", "--output", str(missing))
    assert_refused(done, f"cannot write {missing}: there is no folder {missing.parent}")
    done = levy(october, *MONTH, "--format", "html", "--output", str(tmp_path))
    assert_refused(done, f"cannot write {tmp_path}: it is a folder")
    assert snapshot(october) == before
