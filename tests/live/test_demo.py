"""The README's main-job command works: the demo brings up broker, daemon and simulator, shows
liabilities, stops by itself and leaves a ledger that `report` reads."""

import os
import subprocess
import sys
from pathlib import Path

from tests.live.harness import levy

ROOT = Path(__file__).resolve().parents[2]


def demo(folder: Path, python: str, timeout_s: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEMO_DIR": str(folder), "DEMO_SECONDS": "12", "PYTHON": python}
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / "demo.sh")],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
    )


def test_the_demo_runs_and_leaves_a_ledger_report_reads(tmp_path):
    done = demo(tmp_path, sys.executable, 120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status": "ok"' in done.stdout and "TOTAL" in done.stdout
    assert "demo stopped" in done.stdout
    period = next(line for line in done.stdout.splitlines() if "--period" in line).split()[-1]
    reported = levy("report", "-c", str(tmp_path / "site.toml"), "--period", period)
    assert reported.returncode == 0 and "rig-0006" in reported.stdout
    log = (tmp_path / "daemon.log").read_text()
    assert "site demo: 6 meters" in log
    assert "Running job" not in log and "executed successfully" not in log, "scheduler chatter"


def test_the_demo_says_at_once_when_its_python_lacks_the_package(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    done = demo(tmp_path / "demo", str(venv / "bin" / "python"), 20)
    assert done.returncode == 2
    assert "cannot import levy-monitor" in done.stderr and "pip install -e ." in done.stderr
    assert "the ledger stays" not in done.stdout
