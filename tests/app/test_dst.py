"""Daylight saving: a Tasmota's naive local `Time` through Europe/Berlin's fall-back hour, when
02:00-03:00 comes twice, is read as the candidate nearest the receive time: every reading counts
and no hour is deemed (read with fold=0, the second pass was rejected and deemed at rated power)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from collector.feed import format_feed_line
from levy.cli import main
from levy.config.zone import load_zone
from levy.core.units import datetime_to_ms

BERLIN = load_zone("Europe/Berlin")
SITE = """
[site]
id = "berlin"
timezone = "Europe/Berlin"
[ledger]
accounting_start = 2026-10-25T00:00:00+02:00
[[meters]]
id = "plug"
format = "tasmota"
topic = "tele/plug/SENSOR"
rated_kw = "3"
"""


def test_the_fall_back_hour_is_metered_twice_over(tmp_path: Path, capsys) -> None:
    lines, moment, register = [], datetime(2026, 10, 24, 22, 0, tzinfo=UTC), Decimal(10)
    while moment <= datetime(2026, 10, 25, 3, 0, tzinfo=UTC):
        local = moment.astimezone(BERLIN).replace(tzinfo=None).isoformat()
        payload = json.dumps({"Time": local, "ENERGY": {"Total": 0, "Power": 1200}})
        payload = payload.replace('"Total": 0', f'"Total": {register}')
        lines.append(
            format_feed_line(datetime_to_ms(moment) + 150, "tele/plug/SENSOR", payload.encode())
        )
        moment += timedelta(minutes=1)
        register += Decimal("0.02")  # 1.2 kW for a minute
    (tmp_path / "site.toml").write_text(SITE)
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n")
    config = str(tmp_path / "site.toml")
    assert main(["replay", "-c", config, "-i", str(tmp_path / "feed.jsonl")]) == 0
    assert "duplicate" not in capsys.readouterr().out
    assert main(["report", "-c", config, "--period", "2026-10", "--format", "json"]) == 0
    [meter] = json.loads(capsys.readouterr().out)["meters"]
    # 00:00 CEST (22:00Z) to 04:00 CET (03:00Z) is five hours: 300 minutes at 0.02 kWh
    assert (meter["metered_kwh"], meter["deemed_kwh"]) == ("6.000", "0.000")
