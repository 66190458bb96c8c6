"""The README's main-job command works: the demo brings up broker, daemon and simulator, shows
liabilities, stops by itself and leaves a ledger that `report` reads."""

import os
import subprocess
import sys
from pathlib import Path

from tests.live.harness import levy

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_and_leaves_a_ledger_report_reads(tmp_path):
    env = {**os.environ, "DEMO_DIR": str(tmp_path), "DEMO_SECONDS": "12", "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "demo.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status": "ok"' in done.stdout and "TOTAL" in done.stdout
    assert "demo stopped" in done.stdout
    period = next(line for line in done.stdout.splitlines() if "--period" in line).split()[-1]
    reported = levy("report", "-c", str(tmp_path / "site.toml"), "--period", period)
    assert reported.returncode == 0 and "rig-0006" in reported.stdout
