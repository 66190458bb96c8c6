"""Rule 5 through the command line: a power-only meter needs no configuration, and a meter whose
readings lack what it is billed on is named in the replay summary, not hidden in a count."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from levy.cli import main
from tests.app.scenario import ALMATY, line

SITE = """
[site]
id = "measure"
[ledger]
accounting_start = 2026-11-02T00:00:00+05:00
[[meters]]
id = "plug-1"
topic = "m/plug-1"
rated_kw = "3.6"
[[meters]]
id = "rig-2"
topic = "m/rig-2"
rated_kw = "3.6"
"""
START = datetime(2026, 11, 2, tzinfo=ALMATY)


def feed(path: Path) -> None:
    """An hour: plug-1 reports 3000 W only, every minute from 00:00; rig-2 reports its register
    at 00:00 and then only power."""
    lines = []
    for minute in range(61):
        moment = START + timedelta(minutes=minute)
        lines.append(line(moment, "m/plug-1", json.dumps({"power_w": 3000}).encode()))
        body = {"energy_kwh": 10} if minute == 0 else {"power_w": 3000}
        lines.append(line(moment, "m/rig-2", json.dumps(body).encode()))
    path.write_text("\n".join(lines) + "\n")


def test_power_only_is_metered_and_a_meter_missing_its_value_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(SITE)
    feed(tmp_path / "feed.jsonl")
    assert main(["replay", "-c", str(config), "-i", str(tmp_path / "feed.jsonl")]) == 0
    summary = capsys.readouterr().out
    assert "rejected          60 missing_field" in summary
    assert "rejecting most    rig-2: 60 missing_field" in summary
    assert main(["report", "-c", str(config), "--period", "2026-11", "--format", "json"]) == 0
    meters = {m["meter"]: m for m in json.loads(capsys.readouterr().out)["meters"]}
    # 3 kW for an hour by trapezoids; rig-2 billed at 3.6 kW for the hour it gave no register
    assert (meters["plug-1"]["metered_kwh"], meters["plug-1"]["deemed_kwh"]) == ("3.000", "0.000")
    assert (meters["rig-2"]["metered_kwh"], meters["rig-2"]["deemed_kwh"]) == ("0.000", "3.600")
