from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from levy.config import SiteConfig, load_config, parse_config
from levy.config.zone import load_zone
from levy.core.model import Supply
from tests.config.site_samples import METER

ALMATY = load_zone("Asia/Almaty")  # the pinned tzdata's zone, as the configuration reads it


def test_a_site_id_and_one_meter_is_a_whole_configuration(
    load: Callable[[str], SiteConfig], tmp_path: Path
) -> None:
    config = load('[site]\nid = "site-1"\n' + METER)

    assert config.source == tmp_path / "site.toml"
    assert config.site.timezone == "Asia/Almaty"
    assert config.zone == ALMATY
    assert config.site.supply is Supply.GRID
    assert config.site.inventory is None

    mqtt = config.mqtt
    assert (mqtt.host, mqtt.port, mqtt.client_id) == ("127.0.0.1", 1883, "levy-site-1")
    assert mqtt.topics == ["#"]
    assert (mqtt.keepalive, mqtt.qos, mqtt.username) == (60, 1, None)
    assert mqtt.password_env is mqtt.password_file is None
    assert mqtt.tls_ca_file is mqtt.tls_cert_file is mqtt.tls_key_file is None

    assert config.ledger.path == tmp_path / "var" / "site-1.sqlite"
    assert config.ledger.accounting_start is None
    assert config.influx is None

    assert config.rules.stale_after_s == 900
    assert config.rules.implausible_factor == Decimal("1.2")
    assert isinstance(config.rules.implausible_factor, Decimal)
    assert config.rules.max_clock_skew_s == 300

    [rate] = config.rates
    assert rate.from_ == datetime(2024, 1, 1, tzinfo=ALMATY)
    assert (rate.grid, rate.off_grid) == (Decimal(2), Decimal(1))

    daemon = config.daemon
    assert (daemon.batch_max_messages, daemon.batch_max_ms, daemon.sweep_interval_s) == (
        500,
        200,
        60,
    )
    assert (daemon.queue_max, daemon.health_port, daemon.health_host) == (
        10000,
        9108,
        "127.0.0.1",
    )
    assert config.archive.dir == tmp_path / "var" / "archive" / "site-1"
    assert config.archive.retention_days == 0

    [meter] = config.meters
    assert (meter.id, meter.topic, meter.format) == ("rig-0001", "mining/site-1/rig-0001", "native")
    assert meter.rated_kw == Decimal("3.6")
    assert meter.supply is Supply.GRID
    assert meter.measure is None  # decided by the first valid reading
    assert meter.commissioned_at is meter.decommissioned_at is None
    assert meter.channel is meter.component is None


def test_numbers_stay_exact_decimals(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        """
        [site]
        id = "site-1"
        [rules]
        implausible_factor = 1.1
        [[rates]]
        from = 2024-01-01
        grid = 2.15
        off_grid = "1.05"
        [[rates]]
        from = 2025-01-01
        grid = 3
        off_grid = "0.1"
        [[meters]]
        id = "rig-0001"
        topic = "mining/site-1/rig-0001"
        rated_kw = 0.1
        """
    )
    assert config.rules.implausible_factor == Decimal("1.1")
    assert [(rate.grid, rate.off_grid) for rate in config.rates] == [
        (Decimal("2.15"), Decimal("1.05")),
        (Decimal(3), Decimal("0.1")),
    ]
    assert config.meters[0].rated_kw == Decimal("0.1")
    assert config.rates[0].for_supply(Supply.GRID) == Decimal("2.15")
    assert config.rates[0].for_supply(Supply.OFF_GRID) == Decimal("1.05")


def test_site_supply_is_the_default_of_its_meters(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        """
        [site]
        id = "site-1"
        supply = "off_grid"
        [[meters]]
        id = "a"
        topic = "mining/site-1/a"
        rated_kw = "1"
        [[meters]]
        id = "b"
        topic = "mining/site-1/b"
        rated_kw = "1"
        supply = "grid"
        """
    )
    assert [meter.supply for meter in config.meters] == [Supply.OFF_GRID, Supply.GRID]


def test_relative_paths_are_read_beside_the_toml_file(
    write: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        """
        [site]
        id = "site-1"
        [mqtt]
        tls_ca_file = "tls/ca.pem"
        [ledger]
        path = "/srv/levy/ledger.sqlite"
        [archive]
        dir = "archive"
        """
        + METER
    )
    monkeypatch.chdir(tmp_path.parent)
    config = load_config(Path(tmp_path.name) / "site.toml")
    assert config.mqtt.tls_ca_file == tmp_path / "tls" / "ca.pem"
    assert config.ledger.path == Path("/srv/levy/ledger.sqlite")
    assert config.archive.dir == tmp_path / "archive"


def test_parse_config_validates_an_already_parsed_document(tmp_path: Path) -> None:
    data = {
        "site": {"id": "site-1"},
        "meters": [{"id": "m", "topic": "t", "rated_kw": Decimal("2")}],
    }
    config = parse_config(data, tmp_path / "site.toml")
    assert config.meters[0].rated_kw == Decimal(2)
    assert config.ledger.path == tmp_path / "var" / "site-1.sqlite"
    assert data["meters"][0]["rated_kw"] == Decimal("2")


def test_a_site_config_is_only_built_by_the_loader() -> None:
    with pytest.raises(TypeError, match="load_config"):
        SiteConfig.model_validate({"site": {"id": "s"}, "meters": []})
