from collections.abc import Callable
from pathlib import Path

import pytest

from levy.config import ConfigError, load_config
from tests.config.site_samples import METER

Problems = Callable[[str], list[str]]


def test_a_value_out_of_range_names_its_key_path(problems: Problems) -> None:
    assert problems('[site]\nid = "site-1"\n[mqtt]\nport = 70000\n' + METER) == [
        "mqtt.port: Input should be less than 65536"
    ]


def test_every_problem_is_reported_together(problems: Problems) -> None:
    found = problems(
        """
        [site]
        id = "site-1"
        timezone = "Mars/Olympus_Mons"
        [mqtt]
        port = 0
        qos = 0
        [rules]
        stale_after_s = 0
        implausible_factor = "0.9"
        max_clock_skew_s = -1
        [daemon]
        health_port = 65536
        [archive]
        retention_days = -1
        [[meters]]
        id = "rig-0001"
        topic = "mining/site-1/rig-0001"
        rated_kw = "3.6"
        [[meters]]
        id = "rig-0002"
        topic = "mining/site-1/rig-0002"
        rated_kw = "-1"
        """
    )
    assert [problem.partition(":")[0] for problem in found] == [
        "site.timezone",
        "mqtt.port",
        "mqtt.qos",
        "rules.stale_after_s",
        "rules.implausible_factor",
        "rules.max_clock_skew_s",
        "meters[1].rated_kw",
        "daemon.health_port",
        "archive.retention_days",
    ]
    assert "site.timezone: unknown time zone 'Mars/Olympus_Mons'" in found[0]
    assert found[2].startswith("mqtt.qos: should be 1 or 2")
    assert "meters[1].rated_kw: Input should be greater than 0" in found


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[site]\nid = "site-1"\ncolour = "red"\n' + METER, "site.colour: unknown key"),
        ('[site]\nid = "site-1"\n[mqtt]\nhots = "x"\n' + METER, "mqtt.hots: unknown key"),
        ('[site]\nid = "site-1"\n[rulez]\nx = 1\n' + METER, "rulez: unknown key"),
        ('[site]\nid = "site-1"\n' + METER + "watts = 3600\n", "meters[0].watts: unknown key"),
        (
            '[site]\nid = "site-1"\n[[rates]]\nfrom = 2024-01-01\ngrid = 2\noff_grid = 1\nto = 2\n'
            + METER,
            "rates[0].to: unknown key",
        ),
    ],
)
def test_unknown_keys_are_rejected_with_their_path(
    problems: Problems, text: str, problem: str
) -> None:
    assert problems(text) == [problem]


def test_a_missing_site_id_is_one_problem(problems: Problems) -> None:
    assert problems("[site]\n" + METER) == ["site.id: required key is missing"]
    assert problems(METER) == ["site: required key is missing"]


@pytest.mark.parametrize("site_id", ["", " a", "../x", "a/b", "-x", "a#", "a\\u0007"])
def test_site_id_is_safe_in_file_names(problems: Problems, site_id: str) -> None:
    [problem] = problems(f'[site]\nid = "{site_id}"\n' + METER)
    assert problem.startswith("site.id: ")


def test_site_id_is_kept_as_written(load) -> None:
    """Spaces, commas, `=`, quotes and Cyrillic reach reports and dashboards unchanged."""
    config = load('[site]\nid = "Экибастуз 1, зал=2 \\"A\\""\n' + METER)
    assert config.site.id == 'Экибастуз 1, зал=2 "A"'
    assert config.mqtt.client_id == 'levy-Экибастуз 1, зал=2 "A"'


def test_a_table_given_as_a_value_is_named(problems: Problems) -> None:
    assert problems('mqtt = 5\n[site]\nid = "site-1"\n' + METER) == ["mqtt: should be a table"]


def test_true_and_false_are_not_numbers(problems: Problems) -> None:
    assert problems('[site]\nid = "site-1"\n' + METER + "channel = true\n")[0] == (
        "meters[0].channel: true/false is not a valid value here"
    )


def test_nan_is_not_a_rated_power(problems: Problems) -> None:
    assert problems('[site]\nid = "s"\n[[meters]]\nid = "m"\ntopic = "t"\nrated_kw = nan\n') == [
        "meters[0].rated_kw: Input should be a finite number"
    ]


def test_mqtt_settings_that_go_together(problems: Problems) -> None:
    found = problems(
        '[site]\nid = "s"\n[mqtt]\ntls_cert_file = "c.pem"\ntopics = ["a/#/b"]\n'
        'keepalive = 0\nusername = ""\n' + METER
    )
    assert found == [
        "mqtt.topics[0]: 'a/#/b': '#' may only be the whole last level",
        "mqtt.username: String should have at least 1 character",
        "mqtt.keepalive: Input should be greater than or equal to 1",
    ]
    assert problems('[site]\nid = "s"\n[mqtt]\ntls_cert_file = "c.pem"\n' + METER) == [
        "mqtt: tls_cert_file and tls_key_file go together"
    ]
    assert problems('[site]\nid = "s"\n[mqtt]\ntopics = []\n' + METER) == [
        "mqtt.topics: List should have at least 1 item after validation, not 0"
    ]


def test_influx_settings(problems: Problems) -> None:
    found = problems(
        '[site]\nid = "s"\n[influx]\nurl = "localhost:8086"\norg = ""\nbucket = "b"\n' + METER
    )
    assert found == [
        "influx.url: 'localhost:8086' should be an http:// or https:// URL",
        "influx.org: String should have at least 1 character",
    ]
    assert problems(
        '[site]\nid = "s"\n[influx]\nurl = "http://i:8086"\norg = "o"\nbucket = "b"\n' + METER
    ) == ["influx: set exactly one of token_env and token_file"]


def test_a_toml_syntax_error_is_one_problem_with_file_line_and_column(
    write: Callable[[str], Path],
) -> None:
    path = write('[site]\nid = "site-1"\nport = \n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: ")
    assert "line 3" in problem


def test_an_unreadable_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}: cannot read: No such file or directory"]
    assert str(caught.value) == caught.value.problems[0]


def test_a_file_that_is_not_utf8_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_bytes(b'[site]\nid = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}: is not UTF-8 text"]
