"""October 2026 at a small site, with every deemed reason, as recorded MQTT lines.

rig-1  grid      3.6 kW  native   +0.5 kWh every 10 min; a fault frame at Oct 10 12:05;
                                  silent from Oct 15 00:00 to 02:00
rig-2  off_grid  6 kW    tasmota  +0.8 kWh every 10 min (naive local Time); register reset to 0
                                  at Oct 20 08:00; a +2.0 kWh spike at Oct 25 16:00
rig-3  grid      2.5 kW  native   commissioned Oct 5; first heard Oct 5 06:00; +0.4 kWh/10 min
rig-4  grid      1 kW    native   never heard from
The feed runs from Oct 1 00:00 to Nov 1 00:20 (Almaty), one line per reading, plus noise:
a malformed line, a NaN payload, a message on an unknown topic and an exact duplicate line.
"""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from collector.feed import format_feed_line
from levy.core.units import datetime_to_ms

ALMATY = ZoneInfo("Asia/Almaty")
START = datetime(2026, 10, 1, tzinfo=ALMATY)
END = datetime(2026, 11, 1, 0, 20, tzinfo=ALMATY)
STEP = timedelta(minutes=10)

DEMO = Path(__file__).resolve().parents[2] / "config"
SITE_TOML = (DEMO / "october-demo.toml").read_text()


def times(first: datetime, last: datetime):
    moment = first
    while moment <= last:
        yield moment
        moment += STEP


def line(moment: datetime, topic: str, payload: bytes) -> str:
    return format_feed_line(datetime_to_ms(moment), topic, payload)


def native(moment: datetime, register: Decimal) -> bytes:
    return f'{{"ts": "{moment.isoformat()}", "energy_kwh": {register}}}'.encode()


def rig_1() -> list[str]:
    topic, register, lines = "mining/scenario-1/rig-1", Decimal(1000), []
    gap_from, gap_to = (
        datetime(2026, 10, 15, tzinfo=ALMATY),
        datetime(2026, 10, 15, 2, tzinfo=ALMATY),
    )
    for moment in times(START, END):
        if gap_from < moment < gap_to:
            register += Decimal("0.5")
            continue
        lines.append(line(moment, topic, native(moment, register)))
        register += Decimal("0.5")
    fault_at = datetime(2026, 10, 10, 12, 5, tzinfo=ALMATY)
    fault = json.dumps({"ts": fault_at.isoformat(), "fault": True}).encode()
    lines.append(line(fault_at, topic, fault))
    return lines


def rig_2() -> list[str]:
    topic, register, lines = "tele/rig-2/SENSOR", Decimal("52.125"), []
    reset_at = datetime(2026, 10, 20, 8, tzinfo=ALMATY)
    spike_at = datetime(2026, 10, 25, 16, tzinfo=ALMATY)
    for moment in times(START, END):
        if moment == reset_at:
            register = Decimal(0)
        elif moment == spike_at:
            register += Decimal("1.2")
        total = json.dumps(
            {
                "Time": moment.replace(tzinfo=None).isoformat(),
                "ENERGY": {"Total": float(register), "Power": 4800},
            }
        )
        lines.append(line(moment, topic, total.encode()))
        register += Decimal("0.8")
    return lines


def rig_3() -> list[str]:
    topic, register = "mining/scenario-1/rig-3", Decimal(0)
    lines = []
    for moment in times(datetime(2026, 10, 5, 6, tzinfo=ALMATY), END):
        lines.append(line(moment, topic, native(moment, register)))
        register += Decimal("0.4")
    return lines


def noise() -> list[str]:
    at = datetime(2026, 10, 12, 9, 1, tzinfo=ALMATY)
    return [
        "this is not json",
        line(at, "mining/scenario-1/rig-1", b'{"energy_kwh": NaN}'),
        line(at, "mining/scenario-1/rig-99", b'{"energy_kwh": 1}'),
    ]


def write_feed(path: Path) -> int:
    """Write the month's feed in receive order; returns the number of lines."""
    lines = rig_1() + rig_2() + rig_3()
    lines.sort(key=lambda text: json.loads(text)["tst"])
    lines.insert(1000, lines[999])
    lines[5000:5000] = noise()
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def write_site(folder: Path) -> Path:
    """The demo site's configuration in `folder`, so its ledger (a relative path) lands there."""
    config = folder / "site.toml"
    config.write_text(SITE_TOML)
    return config
