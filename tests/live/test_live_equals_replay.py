"""Live equals replay: a simulated fleet of every device format, with every fault kind, runs
through the daemon; its report equals that of a fresh ledger built from the daemon's archive."""

import re
import subprocess
import sys
from decimal import Decimal

from tests.live.harness import (
    Broker,
    Daemon,
    free_port,
    levy,
    previous_month,
    replayed_config,
    replayed_report,
    report,
    wait_until,
)

METERS = [
    ("rig-1", "sim/rig-1", "native", ""),
    ("rig-2", "tele/rig-2/SENSOR", "tasmota", ""),
    ("rig-3", "shellies/rig-3", "shelly", 'component = "switch:0"\n'),
    ("rig-4", "zigbee2mqtt/rig-4", "zigbee2mqtt", ""),
    ("rig-5", "mbmd/rig-5", "mbmd", ""),
]


def site(folder, broker_port: int, health_port: int):
    text = (
        f'[site]\nid = "sim"\n[mqtt]\nport = {broker_port}\n'
        f"[ledger]\naccounting_start = {previous_month()[1].isoformat()}\n"
        "[rules]\nstale_after_s = 3\n"
        f"[daemon]\nhealth_port = {health_port}\nsweep_interval_s = 1\nbatch_max_ms = 100\n"
    )
    for meter, topic, fmt, extra in METERS:
        text += f'[[meters]]\nid = "{meter}"\ntopic = "{topic}"\nformat = "{fmt}"\n'
        text += f'rated_kw = "3.6"\n{extra}'
    path = folder / "site.toml"
    path.write_text(text)
    return path


def messages_total(daemon: Daemon) -> float:
    match = re.search(r"^levy_messages_total (\S+)$", daemon.metrics(), re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_faulty_simulated_fleet_live_equals_the_replay_of_its_archive(tmp_path):
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    config = site(tmp_path, broker.port, health)
    daemon = Daemon(config, health).start()
    try:
        faults = ["--gap-rate", "0.05", "--gap-s", "4", "--fault-rate", "0.05"]
        faults += ["--reset-rate", "0.03", "--spike-rate", "0.03", "--malformed-rate", "0.05"]
        command = [sys.executable, "-m", "levy", "simulate", "-c", str(config)]
        simulated = subprocess.run(
            [*command, "--interval", "1", "--duration", "15", "--seed", "11", *faults],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert simulated.returncode == 0, simulated.stderr
        settled: list[float] = []

        def quiet() -> bool:
            settled.append(messages_total(daemon))
            return len(settled) > 40 and settled[-1] == settled[-40] > 0

        wait_until(quiet, what="the daemon to read the whole stream")
        owed = re.compile(
            r'^levy_month_to_date_fee_tenge\{supply="grid"\} ([1-9]\S*)$', re.MULTILINE
        )
        wait_until(lambda: owed.search(daemon.metrics()), what="month-to-date liabilities")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()
    live = report(config)
    deemed = {d["reason"] for m in live["meters"] for d in m["deemed_intervals"]}
    assert deemed == {"no_baseline", "no_data", "meter_fault", "register_decrease", "implausible"}
    archive = tmp_path / "var" / "archive" / "sim"
    assert live == replayed_report(config, [archive], tmp_path / "replay")
    read_apart = replayed_config(config, [archive], tmp_path / "apart", read_apart=True)
    assert live == report(read_apart)
    month, start, end = previous_month()
    before = report(config, month)
    assert before["closed"], "the daemon closes the previous month once the rules allow"
    hours = Decimal((end - start).total_seconds()) / 3600
    unheard = len(METERS) * Decimal("3.6") * hours  # every meter deemed at its rating, unheard
    assert before["totals"]["deemed_kwh"] == f"{unheard:.3f}"
    assert before == replayed_report(config, [archive], tmp_path / "again", month)
    # the live ledger proves itself: its chain and seals, and the replay of its own archive
    verified = levy("verify", "-c", str(config), "--archive", str(archive))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.splitlines()[-1].startswith("verified: ledger ")
