"""Secrets (MQTT password, InfluxDB token) live in the environment or in a file, never in the
configuration, so the TOML can be committed, copied to an accountant and quoted in a bug report.
Messages name where a secret was looked for, never its value."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from levy.config.errors import ConfigError, Location

SECRET_KEYS = ("password", "token")


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
