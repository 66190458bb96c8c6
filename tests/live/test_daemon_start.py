"""How the daemon starts, as an operator meets it: a health port in use is one plain line, exit 2
(which the systemd unit does not restart) and no ledger left behind; a new ledger's clock is
null while nothing has set it, then a time in the site zone: never 1970."""

import socket
import subprocess
import sys

from tests.live.harness import Broker, Daemon, free_port, site_toml


def test_a_health_port_in_use_is_one_line_and_leaves_nothing(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = site_toml(tmp_path, free_port(), port, 1)
        done = subprocess.run(
            [sys.executable, "-m", "levy", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line == (
        f"levy-monitor: the health port 127.0.0.1:{port} cannot be used (Address already in "
        "use): another levy-monitor may be running; set [daemon] health_port to a free port "
        "(0 turns it off)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.toml"]


def test_a_new_ledger_s_clock_is_null_until_it_is_set(tmp_path) -> None:
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    daemon = Daemon(site_toml(tmp_path, broker.port, health, 1, start=None), health).start()
    try:
        clock = daemon.health()["ledger_clock"]
    finally:
        daemon.terminate()
        broker.stop()
    assert clock is None or (clock.endswith("+05:00") and not clock.startswith("1970")), clock
