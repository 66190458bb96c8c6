"""A rate change inside a month, through replay and report: one rate line per rate in force, each
with its own kWh and fee, computed here by hand."""

import json

from levy.cli import main

SITE = """
[site]
id = "rates"

[[rates]]
from = 2024-01-01
grid = "2"
off_grid = "1"

[[rates]]
from = 2026-10-16
grid = "2.5"
off_grid = "1.5"

[[meters]]
id = "grid-rig"
topic = "r/grid-rig"
rated_kw = "1"

[[meters]]
id = "solar-rig"
topic = "r/solar-rig"
rated_kw = "2"
supply = "off_grid"
"""


def test_a_rate_change_on_october_16_gives_two_rate_lines(tmp_path, capsys):
    config = tmp_path / "site.toml"
    config.write_text(SITE)
    # no meter is ever heard from: the one line is on no meter's topic (an empty feed is refused)
    feed = tmp_path / "silent.jsonl"
    feed.write_text('{"tst": "2026-10-01T00:00:00Z+0500", "topic": "r/nobody", "payload": "{}"}\n')
    replay = ["replay", "-c", str(config), "-i", str(feed)]
    assert main([*replay, "--from", "2026-10-01", "--until", "2026-11-01T00:00"]) == 0
    capsys.readouterr()
    assert main(["report", "-c", str(config), "--period", "2026-10", "--format", "json"]) == 0
    by_supply = json.loads(capsys.readouterr().out)["by_supply"]
    # never heard from: deemed at rated power, 15 days (360 h) at the old rate, 16 days (384 h)
    # at the new one
    assert by_supply["grid"] == {
        "kwh": "744.000",
        "metered_kwh": "0.000",
        "deemed_kwh": "744.000",
        "fee_tenge": "1680.00",  # 360 x 2 + 384 x 2.5
        "rates": [
            {
                "from": "2024-01-01T00:00:00+06:00",
                "tenge_per_kwh": "2",
                "kwh": "360.000",
                "fee_tenge": "720.00",
            },
            {
                "from": "2026-10-16T00:00:00+05:00",
                "tenge_per_kwh": "2.5",
                "kwh": "384.000",
                "fee_tenge": "960.00",
            },
        ],
    }
    assert by_supply["off_grid"]["fee_tenge"] == "1872.00"  # 720 x 1 + 768 x 1.5
    assert [r["kwh"] for r in by_supply["off_grid"]["rates"]] == ["720.000", "768.000"]
