"""The deployment stack as files (nothing here runs Docker or opens a connection): the compose
file parses, every host path it mounts exists, every variable it needs is in the example
environment file and every one Grafana's provisioning reads is in Grafana's environment, the
images are pinned, the daemon keeps its ledger and archive on a volume and is health-checked on
/healthz, the broker keeps what the daemon relies on, the systemd unit is hardened, and the
compose site's TOML passes `check-config`."""

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from levy.config import SiteConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
MOSQUITTO_CONF = DEPLOY / "mosquitto" / "compose.conf"
LEVY_CONF = DEPLOY / "mosquitto" / "levy.conf"
PROVISIONING = DEPLOY / "grafana" / "provisioning"
UNIT = DEPLOY / "systemd" / "levy-monitor@.service"
SITE = ROOT / "config" / "compose-site.toml"

DAEMON = "levy-monitor"
SITE_IN_CONTAINER = "/etc/levy-monitor/site.toml"
SECRET_NAMES = ("PASSWORD", "TOKEN", "SECRET")

# Compose's interpolation: `$$` is a literal `$`; `${NAME}`, `$NAME`; `${NAME:-default}` and
# `${NAME-default}` (a default), `${NAME:?message}` and `${NAME?message}` (required),
# `${NAME:+other}` and `${NAME+other}` (empty when unset). Grafana's provisioning files use
# `$NAME` and `${NAME}` with `$$` for a literal `$`.
_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "compose.yaml is not a mapping"
    return document


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


@cache
def site() -> SiteConfig:
    return load_config(SITE)


@cache
def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f".env.example line {number}"
        assert key not in values, f".env.example sets {key} twice"
        values[key] = value
    return values


def strings(node: Any) -> Iterator[str]:
    """Every string value in a parsed YAML document (compose interpolates values, not keys)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def references(texts: Iterable[str]) -> tuple[set[str], dict[str, str]]:
    """The variables referenced without a default (they must be set), and the defaults given."""
    required: set[str] = set()
    defaults: dict[str, str] = {}
    for text in texts:
        for match in _REFERENCE.finditer(text):
            name = match["braced"] or match["bare"]
            operator = (match["op"] or "").lstrip(":")
            if name is None or operator == "+":
                continue
            if operator == "-":
                defaults[name] = match["arg"]
            else:
                required.add(name)
    return required, defaults


def volume_mounts(name: str) -> list[tuple[str, str, str]]:
    """A service's volumes as (kind, source, target): kind is `bind` or `volume`."""
    mounts = []
    for entry in service(name).get("volumes", []):
        if isinstance(entry, dict):
            mounts.append((entry["type"], entry.get("source", ""), entry["target"]))
            continue
        source, _, rest = entry.partition(":")
        target = rest.split(":")[0]
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        mounts.append((kind, source, target))
    return mounts


def mount_options(name: str, target: str) -> list[str]:
    for entry in service(name).get("volumes", []):
        if isinstance(entry, str) and entry.split(":")[1] == target:
            return entry.split(":")[2:]
    raise AssertionError(f"{name} mounts nothing at {target}")


def under_a_volume(name: str, path: Path | str) -> bool:
    inside = PurePosixPath(path)
    return any(
        kind == "volume" and inside.is_relative_to(target)
        for kind, _, target in volume_mounts(name)
    )


def directives(path: Path) -> dict[str, list[str]]:
    """A Mosquitto configuration: each directive with its values, comments dropped."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#")[0].split(maxsplit=1)
        if words:
            found.setdefault(words[0], []).append(words[1] if len(words) > 1 else "")
    return found


def unit_service_section() -> dict[str, list[str]]:
    section, found = "", {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, equals, value = line.partition("=")
        assert equals, f"{UNIT.name}: {raw!r} is not key=value"
        if section == "[Service]":
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def dockerfile_instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


# The compose file


def test_the_compose_file_parses_into_the_four_services() -> None:
    document = compose()
    assert set(document["services"]) == {"mosquitto", "influxdb", "grafana", DAEMON}
    for name, spec in document["services"].items():
        assert "image" in spec or "build" in spec, name
        assert spec.get("restart") == "unless-stopped", name
    declared = set(document.get("volumes") or {})
    used = {
        source
        for name in document["services"]
        for kind, source, _ in volume_mounts(name)
        if kind == "volume"
    }
    assert used <= declared, f"named volumes not declared: {sorted(used - declared)}"
    assert declared <= used, f"declared volumes no service uses: {sorted(declared - used)}"


def test_every_host_path_the_compose_file_mounts_exists() -> None:
    missing = [
        f"{name}: {source}"
        for name in compose()["services"]
        for kind, source, _ in volume_mounts(name)
        if kind == "bind" and not (DEPLOY / source).exists()
    ]
    build = service(DAEMON)["build"]
    context = DEPLOY / build["context"]
    if not (context / build["dockerfile"]).is_file():
        missing.append(f"{DAEMON}: build {build['dockerfile']} in {build['context']}")
    assert not missing, f"mounted but missing (relative to deploy/): {missing}"


def test_every_variable_the_compose_file_needs_is_in_the_example_env() -> None:
    required, defaults = references(strings(compose()))
    example = env_example()
    missing = sorted(required - set(example))
    assert not missing, f"compose.yaml needs these, deploy/.env.example lacks them: {missing}"
    unused = sorted(set(example) - required - set(defaults))
    assert not unused, f"deploy/.env.example sets what compose.yaml never reads: {unused}"
    differing = {
        name: (default, example[name])
        for name, default in defaults.items()
        if name in example and example[name] != default
    }
    assert not differing, f"compose defaults and .env.example differ: {differing}"


def test_the_example_env_holds_placeholders_not_secrets() -> None:
    secrets = {k: v for k, v in env_example().items() if any(s in k for s in SECRET_NAMES)}
    assert {"LEVY_MQTT_PASSWORD", "LEVY_INFLUX_TOKEN"} <= set(secrets)
    real_looking = sorted(
        name for name, value in secrets.items() if not value.startswith("change-me-")
    )
    assert not real_looking, f"not a change-me-... placeholder: {real_looking}"


def test_the_compose_settings_match_the_sites_toml() -> None:
    example, influx = env_example(), site().influx
    assert influx is not None, "the compose site exports to the stack's InfluxDB"
    assert influx.org == example["LEVY_INFLUX_ORG"]
    assert influx.bucket == example["LEVY_INFLUX_BUCKET"]
    assert influx.url == service("grafana")["environment"]["LEVY_INFLUX_URL"]
    assert influx.url.startswith("http://influxdb:8086")
    mqtt = site().mqtt
    assert (mqtt.host, mqtt.port, mqtt.username) == ("mosquitto", 1883, "levy")


# The daemon's service and image


def test_the_daemon_service_runs_the_site_from_the_repository_image() -> None:
    daemon = service(DAEMON)
    assert daemon["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert daemon["command"] == [DAEMON, "run", "-c", SITE_IN_CONTAINER]
    assert ("bind", "../config/compose-site.toml", SITE_IN_CONTAINER) in volume_mounts(DAEMON)
    assert "ro" in mount_options(DAEMON, SITE_IN_CONTAINER)
    mqtt, influx = site().mqtt, site().influx
    assert influx is not None and mqtt.password_env and influx.token_env
    for variable in (mqtt.password_env, influx.token_env):
        assert daemon["environment"][variable].startswith(f"${{{variable}:?"), variable


def test_the_ledger_and_the_archive_are_on_a_volume() -> None:
    config = site()
    assert config.ledger.path.is_absolute() and config.archive.dir.is_absolute()
    assert under_a_volume(DAEMON, config.ledger.path), config.ledger.path
    assert under_a_volume(DAEMON, config.archive.dir), config.archive.dir
    volumes = [entry for keyword, entry in dockerfile_instructions() if keyword == "VOLUME"]
    assert any("/var/lib/levy-monitor" in entry for entry in volumes)
    assert under_a_volume(DAEMON, "/var/lib/levy-monitor")


def test_the_daemon_is_health_checked_on_healthz() -> None:
    daemon = site().daemon
    url = f"http://127.0.0.1:{daemon.health_port}/healthz"
    assert daemon.health_host == "127.0.0.1", "the check runs inside the container"
    test = service(DAEMON)["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python3", "the image has python, not curl"
    assert url in test[-1]
    checks = [entry for keyword, entry in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1 and url in checks[0]


def test_the_image_is_pinned_and_runs_as_a_fixed_non_root_user() -> None:
    instructions = dockerfile_instructions()
    bases = [entry for keyword, entry in instructions if keyword == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", b) for b in bases), bases
    users = [entry for keyword, entry in instructions if keyword == "USER"]
    assert users, "the image needs a USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, f"USER {users[-1]}: a fixed non-root uid"
    assert any(
        keyword == "RUN" and "pip install --no-cache-dir" in entry
        for keyword, entry in instructions
    )


def test_the_dockerignore_sends_what_the_image_copies() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: everything else stays out of the build context"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for keyword, entry in dockerfile_instructions():
        if keyword == "COPY":
            sources = [word for word in entry.split()[:-1] if not word.startswith("--")]
            assert set(sources) <= allowed, sources


def test_every_image_is_pinned_to_a_patch_release() -> None:
    images = {
        name: spec["image"] for name, spec in compose()["services"].items() if "image" in spec
    }
    assert re.fullmatch(r"eclipse-mosquitto:2\.0\.\d+", images["mosquitto"])
    assert re.fullmatch(r"influxdb:2\.7\.\d+", images["influxdb"])
    assert re.fullmatch(r"grafana/grafana-oss:11\.\d+\.\d+", images["grafana"])


# The broker


def test_the_broker_keeps_what_the_daemon_relies_on() -> None:
    conf = directives(MOSQUITTO_CONF)
    assert conf["allow_anonymous"] == ["false"]
    assert conf["persistence"] == ["true"]
    assert conf["max_queued_messages"] == ["0"]
    assert conf["autosave_interval"] == ["60"]
    assert int(conf["message_size_limit"][0]) == site().daemon.max_payload_bytes
    assert under_a_volume("mosquitto", conf["persistence_location"][0])
    assert under_a_volume("mosquitto", conf["password_file"][0])
    assert ("bind", "./mosquitto/compose.conf", "/mosquitto/config/mosquitto.conf") in (
        volume_mounts("mosquitto")
    )


def test_the_broker_takes_every_setting_of_levy_conf() -> None:
    ours, shipped = directives(MOSQUITTO_CONF), directives(LEVY_CONF)
    differing = {
        key: (values, ours.get(key))
        for key, values in shipped.items()
        if key != "persistence_location" and ours.get(key) != values
    }
    assert not differing, f"levy.conf and compose.conf differ: {differing}"


def test_the_broker_writes_the_daemons_password_at_start() -> None:
    mosquitto = service("mosquitto")
    script = " ".join(mosquitto["command"])
    password_file = directives(MOSQUITTO_CONF)["password_file"][0]
    assert "mosquitto_passwd -c -b" in script and password_file in script
    assert 'levy "$$LEVY_MQTT_PASSWORD"' in script, "the container's variable, not compose's"
    assert mosquitto["environment"]["LEVY_MQTT_PASSWORD"].startswith("${LEVY_MQTT_PASSWORD:?")
    assert "exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf" in script


# Grafana


def test_grafana_mounts_the_provisioning_and_the_dashboards_read_only() -> None:
    for source, target in (
        ("./grafana/provisioning", "/etc/grafana/provisioning"),
        ("./grafana/dashboards", "/var/lib/grafana/dashboards"),
    ):
        assert ("bind", source, target) in volume_mounts("grafana")
        assert "ro" in mount_options("grafana", target)


def interpolated(document: dict) -> dict:
    """What Grafana fills environment variables into: not an alert rule's query models (so that
    macros such as $timeFilter survive) nor its annotations (alert templates' $labels)."""
    for group in document.get("groups", []):
        for rule in group.get("rules", []):
            rule.pop("annotations", None)
            for query in rule.get("data", []):
                query.pop("model", None)
    return document


def test_grafana_has_every_variable_its_provisioning_reads() -> None:
    files = sorted(p for p in PROVISIONING.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert files, f"no provisioning files in {PROVISIONING.relative_to(ROOT)}"
    required, _ = references(
        text
        for path in files
        for text in strings(interpolated(yaml.safe_load(path.read_text(encoding="utf-8"))))
    )
    missing = sorted(required - set(service("grafana")["environment"]))
    assert not missing, f"the provisioning reads these, grafana's environment lacks them: {missing}"


# The systemd unit


def test_the_systemd_unit_is_hardened() -> None:
    unit = unit_service_section()
    expected = {
        "User": "levy",
        "StateDirectory": "levy-monitor",
        "UMask": "0027",
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "PrivateDevices": "true",
        "ProtectKernelTunables": "true",
        "ProtectKernelModules": "true",
        "ProtectKernelLogs": "true",
        "ProtectControlGroups": "true",
        "ProtectClock": "true",
        "ProtectHostname": "true",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces": "true",
        "RestrictRealtime": "true",
        "RestrictSUIDSGID": "true",
        "LockPersonality": "true",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "RestartPreventExitStatus": "2",
    }
    wrong = {key: unit.get(key) for key, value in expected.items() if unit.get(key) != [value]}
    assert not wrong, f"[Service] keys missing or not as hardened: {wrong}"
    assert "@system-service" in unit["SystemCallFilter"]


# The site configuration


def test_the_compose_site_passes_check_config() -> None:
    env = {**os.environ, "LEVY_MQTT_PASSWORD": "dummy", "LEVY_INFLUX_TOKEN": "dummy"}
    result = subprocess.run(
        [sys.executable, "-m", "levy", "check-config", "-c", str(SITE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
