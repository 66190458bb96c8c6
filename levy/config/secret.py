"""Secrets (MQTT password, InfluxDB token) live in the environment or in a file, never in the
configuration, so the TOML can be committed, copied to an accountant and quoted in a bug report.
Messages name where a secret was looked for, never its value."""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, TypeAdapter, ValidationError

from levy.config.context import LoadContext
from levy.config.errors import ConfigError, Location
from levy.config.values import ConfigPath, EnvName
from levy.ledger.signing import KeyFileError, load_signer

SECRET_KEYS = ("password", "token")
SOURCES = {
    "mqtt": ("password", ("tls_ca_file", "tls_cert_file", "tls_key_file")),
    "influx": ("token", ()),
}
"""Per table: its secret, and the other files the daemon reads when it starts."""
_ENV = TypeAdapter(EnvName)
_PATH = TypeAdapter(ConfigPath)


def pop_inline_secrets(data: Any, location: Location = ()) -> Iterator[Location]:
    """Remove `password`/`token` keys wherever they are, yielding their locations, so the value
    never reaches a validator that could echo it and the rest of the file is still checked."""
    if isinstance(data, dict):
        for key in [key for key in data if key in SECRET_KEYS]:
            del data[key]
            yield (*location, key)
        for key, value in data.items():
            yield from pop_inline_secrets(value, (*location, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from pop_inline_secrets(value, (*location, index))


def inline_secret_problem(key: str) -> str:
    return (
        "secrets are never written in the configuration: "
        f"use {key}_env (an environment variable's name) or {key}_file (a file holding it)"
    )


def resolve_secret(setting: str, env: str | None, file: Path | None) -> SecretStr | None:
    """`setting` is the key path without its suffix (`mqtt.password`); None when neither is set.

    A trailing newline is dropped: `echo secret > file` and most secret stores add one.
    """
    if env is not None:
        value = os.environ.get(env, "").rstrip("\r\n")
        if not value:
            raise ConfigError([f"{setting}_env: environment variable {env} is not set or empty"])
        return SecretStr(value)
    if file is None:
        return None
    try:
        value = file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError([f"{setting}_file: cannot read {file}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{setting}_file: {file} is not UTF-8 text"]) from None
    if not value:
        raise ConfigError([f"{setting}_file: {file} is empty"])
    return SecretStr(value)


def source_problems(data: Mapping[str, Any], context: LoadContext) -> list[str]:
    """What the daemon would fail on when it starts, found beforehand (check-config): a secret's
    variable that is not set, a secret's or a TLS file that cannot be read. Read from the
    document as written, so that these are listed whatever else is wrong; a key that is not
    valid on its own is left to validation. Problems name the variable or file, never a value."""
    problems: list[str] = []
    for table, (secret, files) in SOURCES.items():
        section = data.get(table)
        if not isinstance(section, dict):
            continue
        env = _valid(_ENV, section.get(f"{secret}_env"), context)
        if env is not None:
            problems += _unresolved(f"{table}.{secret}", env, None)
        file = _valid(_PATH, section.get(f"{secret}_file"), context)
        if file is not None:
            problems += _unresolved(f"{table}.{secret}", None, file)
        for key in files:
            path = _valid(_PATH, section.get(key), context)
            if path is not None:
                problems += _unreadable(f"{table}.{key}", path)
    return problems + _signing_key_problems(data, context)


def _signing_key_problems(data: Mapping[str, Any], context: LoadContext) -> list[str]:
    """The key that signs close records must be one, or the daemon's closes would fail."""
    section = data.get("evidence")
    if not isinstance(section, dict):
        return []
    path = _valid(_PATH, section.get("signing_key_file"), context)
    if path is None:
        return []
    try:
        load_signer(path)
    except KeyFileError as exc:
        return [f"evidence.signing_key_file: {exc}"]
    return []


def _valid(adapter: TypeAdapter[Any], value: Any, context: LoadContext) -> Any:
    if value is None:
        return None
    try:
        return adapter.validate_python(value, context=context)
    except ValidationError:
        return None


def _unresolved(setting: str, env: str | None, file: Path | None) -> list[str]:
    try:
        resolve_secret(setting, env, file)
    except ConfigError as exc:
        return exc.problems
    return []


def _unreadable(key: str, path: Path) -> list[str]:
    try:
        with path.open("rb"):
            return []
    except OSError as exc:
        return [f"{key}: cannot read {path}: {exc.strerror}"]
