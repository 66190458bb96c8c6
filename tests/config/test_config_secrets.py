from collections.abc import Callable
from pathlib import Path

import pytest

from levy.config import ConfigError, SiteConfig
from tests.config.site_samples import METER

SECRET = "s3cr3t-Hunter2"
SITE = '[site]\nid = "site-1"\n'
INFLUX = '[influx]\nurl = "http://127.0.0.1:8086"\norg = "o"\nbucket = "b"\n'


def test_an_inline_password_or_token_is_rejected_without_echoing_it(
    problems: Callable[[str], list[str]],
) -> None:
    found = problems(
        SITE
        + f'[mqtt]\nusername = "levy"\npassword = "{SECRET}"\nport = 0\n'
        + INFLUX
        + f'token = "{SECRET}"\ntoken_env = "T"\n'
        + METER
    )
    assert found == [
        "mqtt.password: secrets are never written in the configuration: use password_env (an "
        "environment variable's name) or password_file (a file holding it)",
        "influx.token: secrets are never written in the configuration: use token_env (an "
        "environment variable's name) or token_file (a file holding it)",
        "mqtt.port: Input should be greater than 0",
    ]
    assert not any(SECRET in problem for problem in found)


def test_the_password_is_read_from_the_environment(
    load: Callable[[str], SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load(SITE + '[mqtt]\nusername = "levy"\npassword_env = "LEVY_MQTT_PASSWORD"\n' + METER)
    monkeypatch.setenv("LEVY_MQTT_PASSWORD", SECRET + "\n")
    password = config.mqtt.resolve_password()
    assert password is not None and password.get_secret_value() == SECRET
    assert SECRET not in repr(password) and SECRET not in str(password)
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())


def test_the_password_is_read_from_a_file_beside_the_config(
    load: Callable[[str], SiteConfig], tmp_path: Path
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "mqtt").write_text(SECRET + "\r\n", encoding="utf-8")
    config = load(SITE + '[mqtt]\nusername = "levy"\npassword_file = "secrets/mqtt"\n' + METER)
    password = config.mqtt.resolve_password()
    assert password is not None and password.get_secret_value() == SECRET
    assert SECRET not in repr(config)


def test_no_password_configured_resolves_to_none(load: Callable[[str], SiteConfig]) -> None:
    assert load(SITE + METER).mqtt.resolve_password() is None


def test_a_missing_secret_names_the_variable_or_file(
    load: Callable[[str], SiteConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEVY_INFLUX_TOKEN", raising=False)
    config = load(SITE + INFLUX + 'token_env = "LEVY_INFLUX_TOKEN"\n' + METER)
    assert config.influx is not None
    with pytest.raises(ConfigError) as caught:
        config.influx.resolve_token()
    assert caught.value.problems == [
        "influx.token_env: environment variable LEVY_INFLUX_TOKEN is not set or empty"
    ]

    config = load(SITE + INFLUX + 'token_file = "token"\n' + METER)
    assert config.influx is not None
    with pytest.raises(ConfigError) as caught:
        config.influx.resolve_token()
    assert caught.value.problems == [
        f"influx.token_file: cannot read {tmp_path / 'token'}: No such file or directory"
    ]

    (tmp_path / "token").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.influx.resolve_token()
    assert caught.value.problems == [f"influx.token_file: {tmp_path / 'token'} is empty"]


def test_the_token_is_read_from_a_file(load: Callable[[str], SiteConfig], tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SECRET + "\n", encoding="utf-8")
    config = load(SITE + INFLUX + 'token_file = "token"\n' + METER)
    assert config.influx is not None
    assert config.influx.resolve_token().get_secret_value() == SECRET


def test_password_sources_are_checked(problems: Callable[[str], list[str]]) -> None:
    assert problems(
        SITE + '[mqtt]\nusername = "u"\npassword_env = "P"\npassword_file = "p"\n' + METER
    ) == ["mqtt: set password_env or password_file, not both"]
    assert problems(SITE + '[mqtt]\npassword_env = "P"\n' + METER) == [
        "mqtt: a password needs a username"
    ]
    assert problems(SITE + '[mqtt]\nusername = "u"\npassword_env = "MY-PASS"\n' + METER) == [
        "mqtt.password_env: 'MY-PASS' is not an environment variable name (letters, digits, _)"
    ]


def test_credentials_in_the_influx_url_are_rejected_without_echoing_them(
    problems: Callable[[str], list[str]],
) -> None:
    found = problems(
        SITE
        + f'[influx]\nurl = "http://admin:{SECRET}@127.0.0.1:8086"\norg = "o"\nbucket = "b"\n'
        + 'token_env = "T"\n'
        + METER
    )
    assert found == ["influx.url: credentials don't belong in the URL: use token_env or token_file"]
