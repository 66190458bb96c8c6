"""The record does not move: October is replayed and closed, then the configuration changes
(a rating, a supply, a meter decommissioned, a rate step) and November is replayed. October's
report stays byte-identical; what would change it is refused by every command; November is
billed as computed by hand below."""

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from levy.cli import main
from tests.app.scenario import ALMATY, STEP, line, native, write_feed, write_site

NOVEMBER_FROM = datetime(2026, 11, 1, 0, 30, tzinfo=ALMATY)
NOVEMBER_TO = datetime(2026, 12, 1, 0, 20, tzinfo=ALMATY)


def last_registers(feed: Path) -> dict[str, Decimal]:
    """Each rig's register in its last October line (rig-1, rig-3 native; rig-2 Tasmota)."""
    last: dict[str, Decimal] = {}
    for text in feed.read_text().splitlines():
        try:
            message = json.loads(text)
            payload = json.loads(message["payload"], parse_float=Decimal)
        except (ValueError, KeyError):
            continue
        if "energy_kwh" in payload:
            last[message["topic"]] = Decimal(str(payload["energy_kwh"]))
        elif "ENERGY" in payload:
            last[message["topic"]] = Decimal(str(payload["ENERGY"]["Total"]))
    return last


def write_november(october: Path, path: Path) -> None:
    """rig-1 +0.5 kWh, rig-2 +0.8 kWh, rig-3 +0.4 kWh every 10 minutes, continuing October's
    registers, from Nov 1 00:30 to Dec 1 00:20; rig-4 is still never heard from."""
    registers = last_registers(october)
    steps = {
        "mining/scenario-1/rig-1": Decimal("0.5"),
        "tele/rig-2/SENSOR": Decimal("0.8"),
        "mining/scenario-1/rig-3": Decimal("0.4"),
    }
    lines, moment = [], NOVEMBER_FROM
    while moment <= NOVEMBER_TO:
        for topic, step in steps.items():
            registers[topic] += step
            if topic.startswith("tele/"):
                body = {"Time": moment.replace(tzinfo=None).isoformat(), "ENERGY": {"Total": 0}}
                payload = json.dumps(body).replace('"Total": 0', f'"Total": {registers[topic]}')
                lines.append(line(moment, topic, payload.encode()))
            else:
                lines.append(line(moment, topic, native(moment, registers[topic])))
        moment += STEP
    path.write_text("\n".join(lines) + "\n")


def run(*args: str) -> int:
    return main(list(args))


def reports(config: Path, period: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """The period's report in each format, byte for byte; the JSON's evidence apart, as its
    close record alone: the chain head moves with every later commit, a close record never."""
    out = {}
    for fmt in ("json", "csv", "table"):
        capsys.readouterr()
        assert run("report", "-c", str(config), "--period", period, "--format", fmt) == 0
        out[fmt] = capsys.readouterr().out
    document = json.loads(out["json"])
    out["close_record"] = json.dumps(document.pop("evidence")["closed"])
    out["json"] = json.dumps(document, ensure_ascii=False)
    return out


def edit(config: Path, old: str, new: str, count: int = 1) -> None:
    text = config.read_text()
    assert text.count(old) >= count, old
    config.write_text(text.replace(old, new, count))


RIG_4 = '[[meters]]\nid = "rig-4"\ntopic = "mining/scenario-1/rig-4"\nformat = "native"\nrated_kw = "1"\n'


@pytest.fixture
def closed_october(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    config = write_site(tmp_path)
    october = tmp_path / "october.jsonl"
    write_feed(october)
    assert run("replay", "-c", str(config), "-i", str(october)) == 0
    assert run("close", "-c", str(config), "--period", "2026-10") == 0
    return config, october


def test_october_stays_as_filed_and_november_is_billed_as_configured(
    closed_october: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, october = closed_october
    filed = reports(config, "2026-10", capsys)
    assert json.loads(filed["json"])["totals"]["fee_tenge"] == "12637.80"

    edit(config, 'rated_kw = "3.6"', 'rated_kw = "4"')
    edit(config, 'supply = "off_grid"', 'supply = "grid"')
    edit(config, 'rated_kw = "1"', 'rated_kw = "1"\ndecommissioned_at = 2026-11-10T00:00:00')
    november = tmp_path / "november.jsonl"
    write_november(october, november)
    assert run("replay", "-c", str(config), "-i", str(november)) == 0
    assert reports(config, "2026-10", capsys) == filed

    # a rate step inside the open November applies to it at once (`report` re-rates it)
    config.write_text(
        config.read_text()
        + '\n[[rates]]\nfrom = 2024-01-01\ngrid = "2"\noff_grid = "1"\n'
        + '\n[[rates]]\nfrom = 2026-11-16\ngrid = "3"\noff_grid = "1"\n'
    )
    rated = json.loads(reports(config, "2026-11", capsys)["json"])
    assert run("close", "-c", str(config), "--period", "2026-11") == 0
    assert reports(config, "2026-10", capsys) == filed
    document = json.loads(reports(config, "2026-11", capsys)["json"])
    assert {**rated, "closed": True, "provisional": []} == document
    # grid before Nov 16: rig-1 1080 + rig-2 (1728 - 1.6 billed off-grid in October's replay,
    # when its supply was still off-grid) + rig-3 864 + rig-4 deemed 9 days x 24 h x 1 kW = 216
    # grid from Nov 16: rig-1 1080 + rig-2 1728 + rig-3 864; off-grid: rig-2 Nov 1 00:00-00:20
    assert document["closed"] is True
    assert document["coverage_end"] == "2026-12-01T00:00:00+05:00"
    assert document["totals"] == {
        "kwh": "7560.000",
        "metered_kwh": "7344.000",
        "deemed_kwh": "216.000",
        "fee_tenge": "18790.40",
    }
    assert [
        (r["tenge_per_kwh"], r["kwh"], r["fee_tenge"])
        for r in document["by_supply"]["grid"]["rates"]
    ] == [
        ("2", "3886.400", "7772.80"),
        ("3", "3672.000", "11016.00"),
    ]
    assert document["by_supply"]["off_grid"]["kwh"] == "1.600"
    billed_as = {(m["meter"], m["supply"], m["rated_kw"]): m["kwh"] for m in document["meters"]}
    assert billed_as == {
        ("rig-1", "grid", "3.6"): "1.000",
        ("rig-1", "grid", "4"): "2159.000",
        ("rig-2", "grid", "6"): "3454.400",
        ("rig-2", "off_grid", "6"): "1.600",
        ("rig-3", "grid", "2.5"): "1728.000",
        ("rig-4", "grid", "1"): "216.000",
    }


def test_a_rate_step_inside_a_closed_month_is_refused_by_every_command(
    closed_october: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, october = closed_october
    config.write_text(
        config.read_text()
        + '\n[[rates]]\nfrom = 2024-01-01\ngrid = "2"\noff_grid = "1"\n'
        + '\n[[rates]]\nfrom = 2026-10-15\ngrid = "3"\noff_grid = "1"\n'
    )
    commands = [
        ("replay", "-i", str(october)),
        ("close", "--period", "2026-11"),
        ("report", "--period", "2026-10"),
        ("report", "--period", "2026-11"),
        ("check-config",),
    ]
    for command, *args in commands:
        capsys.readouterr()
        assert run(command, "-c", str(config), *args) == 2, command
        message = capsys.readouterr().err
        assert "2026-10-15" in message and "closed period 2026-10" in message, message
        assert "Traceback" not in message


def test_a_billed_meter_dropped_from_the_configuration_is_refused_by_name(
    closed_october: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, october = closed_october
    edit(config, RIG_4, "")
    writers = [("replay", "-i", str(october)), ("close", "--period", "2026-11")]
    for command, *args in [*writers, ("check-config",)]:
        capsys.readouterr()
        assert run(command, "-c", str(config), *args) == 2
        message = capsys.readouterr().err
        assert re.search(r"rig-4 has intervals in the ledger", message), message
        assert "decommissioned_at" in message


def test_a_decommissioned_meter_leaves_coverage_and_the_month_closes(
    closed_october: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, october = closed_october
    edit(config, 'rated_kw = "1"', 'rated_kw = "1"\ndecommissioned_at = 2026-11-10T00:00:00')
    november = tmp_path / "november.jsonl"
    write_november(october, november)
    assert run("replay", "-c", str(config), "-i", str(november)) == 0
    document = json.loads(reports(config, "2026-11", capsys)["json"])
    assert document["coverage_end"] == "2026-12-01T00:00:00+05:00"
    [rig_4] = [m for m in document["meters"] if m["meter"] == "rig-4"]
    assert rig_4["deemed_intervals"] == [
        {
            "start": "2026-11-01T00:00:00+05:00",
            "end": "2026-11-10T00:00:00+05:00",
            "reason": "no_baseline",
            "kwh": "216.000",
        }
    ]
    assert run("close", "-c", str(config), "--period", "2026-11") == 0
    late = tmp_path / "late.jsonl"
    at = datetime(2026, 12, 1, 0, 30, tzinfo=ALMATY)
    late.write_text(line(at, "mining/scenario-1/rig-4", native(at, Decimal(5))) + "\n")
    capsys.readouterr()
    assert run("replay", "-c", str(config), "-i", str(late)) == 0
    assert "1 decommissioned" in capsys.readouterr().out


def test_the_ledger_refuses_another_time_zone(
    closed_october: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = closed_october
    edit(
        config,
        '[site]\nid = "scenario-1"\n',
        '[site]\nid = "scenario-1"\ntimezone = "Asia/Tashkent"\n',
    )
    for command, *args in [("close", "--period", "2026-11"), ("report", "--period", "2026-10")]:
        capsys.readouterr()
        assert run(command, "-c", str(config), *args) == 2
        assert "Asia/Almaty" in capsys.readouterr().err
