"""`levy-monitor check-config` as a process lists every error in one run, each with its key path:
duplicate meter ids and topics among the other errors, and what `run` would fail on when it
starts (a secret's variable that is not set, a secret or TLS file that cannot be read), never a
secret's value. It writes nothing."""

import os
import subprocess
import sys
from pathlib import Path

SECRET = "s3cr3t-Hunter2"
UNSET = "LEVY_TEST_SURELY_UNSET"

SITE = f"""
[site]
id = "site-1"
colour = "red"

[mqtt]
topics = ["mining/site-1/#"]
username = "levy"
password_env = "{UNSET}"
tls_ca_file = "ca.pem"

[influx]
url = "http://127.0.0.1:8086"
org = "o"
bucket = "b"
token_file = "secrets/token"

[daemon]
health_port = 0

[[meters]]
id = "rig-1"
topic = "mining/site-1/rig-1"
rated_kw = "3.6"

[[meters]]
id = "rig-2"
topic = "mining/site-1/rig-1"
rated_kw = "-1"

[[meters]]
id = "rig-1"
topic = "elsewhere/rig-3"
rated_kw = "2"
"""


def levy(*argv: str, **env: str) -> subprocess.CompletedProcess:
    """The command as a process, with `UNSET` unset and `env` added to the environment."""
    environment = {key: value for key, value in os.environ.items() if key != UNSET}
    return subprocess.run(
        [sys.executable, "-m", "levy", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, **env},
    )


def files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def check(config: Path, **env: str):
    before = files(config.parent)
    done = levy("check-config", "-c", str(config), **env)
    assert files(config.parent) == before
    assert "Traceback" not in done.stderr
    return done


def problems(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert all(line.startswith("levy-monitor: ") for line in lines), stderr
    return [line.removeprefix("levy-monitor: ") for line in lines]


def test_every_error_is_listed_at_once_with_its_key_path(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(SITE)
    done = check(config)
    assert done.returncode == 2 and done.stdout == ""
    assert problems(done.stderr) == [
        "site.colour: unknown key",
        "meters[1].rated_kw: Input should be greater than 0",
        "meters[1].topic: 'mining/site-1/rig-1' is already read by meter 'rig-1' (meters[0])",
        "meters[2].id: 'rig-1' is already used by meters[0]",
        "meters[2].topic: no mqtt.topics filter matches 'elsewhere/rig-3'",
        f"mqtt.password_env: environment variable {UNSET} is not set or empty",
        f"mqtt.tls_ca_file: cannot read {tmp_path / 'ca.pem'}: No such file or directory",
        f"influx.token_file: cannot read {tmp_path / 'secrets' / 'token'}: "
        "No such file or directory",
    ]


def test_duplicates_in_the_inventory_come_with_the_other_errors(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\nid = "site-1"\ninventory = "meters.csv"\n[rules]\nstale_after_s = 0\n'
        '[[meters]]\nid = "rig-1"\ntopic = "t/rig-1"\nrated_kw = "1"\n'
    )
    (tmp_path / "meters.csv").write_text(
        "id,topic,rated_kw,format,channel\n"
        "rig-1,t/rig-9,1,native,\n"
        "rig-2,tele/p/SENSOR,x,tasmota,2\n"
        "rig-3,tele/p/SENSOR,1,tasmota,2\n"
    )
    done = check(config)
    assert done.returncode == 2
    assert problems(done.stderr) == [
        "rules.stale_after_s: Input should be greater than 0",
        "meters.csv line 3, rated_kw: Input should be a valid decimal",
        "meters.csv line 2, id: 'rig-1' is already used by meters[0]",
        "meters.csv line 4, topic: 'tele/p/SENSOR', channel 2 is already read by meter "
        "'rig-2' (meters.csv line 3)",
    ]


def test_a_secret_that_resolves_passes_and_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(SECRET + "\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    config = tmp_path / "site.toml"
    config.write_text(
        SITE.replace('colour = "red"\n', "")
        .replace(
            '"rig-2"\ntopic = "mining/site-1/rig-1"\nrated_kw = "-1"',
            '"rig-2"\ntopic = "mining/site-1/rig-2"\nrated_kw = "1"',
        )
        .replace('"rig-1"\ntopic = "elsewhere/rig-3"', '"rig-3"\ntopic = "mining/site-1/rig-3"')
    )
    done = check(config)
    assert done.returncode == 2
    assert problems(done.stderr) == [
        f"mqtt.password_env: environment variable {UNSET} is not set or empty"
    ]

    done = check(config, **{UNSET: SECRET})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{config}: site site-1, 3 meters, configuration valid\n"
    assert SECRET not in done.stdout + done.stderr


def test_run_fails_as_check_config_said(tmp_path: Path) -> None:
    """What check-config lists for an unset secret is what `run` stops on, before it makes any
    ledger or archive."""
    config = tmp_path / "site.toml"
    config.write_text(
        f'[site]\nid = "site-1"\n[mqtt]\nusername = "levy"\npassword_env = "{UNSET}"\n'
        '[daemon]\nhealth_port = 0\n[[meters]]\nid = "rig-1"\ntopic = "t/rig-1"\nrated_kw = "1"\n'
    )
    said = check(config)
    assert said.returncode == 2
    expected = f"mqtt.password_env: environment variable {UNSET} is not set or empty"
    assert problems(said.stderr) == [expected]
    before = files(tmp_path)
    done = levy("run", "-c", str(config))
    assert done.returncode == 2
    assert problems(done.stderr) == [expected]
    assert files(tmp_path) == before
