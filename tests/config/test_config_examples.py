from pathlib import Path

from levy.config import MeterFormat, load_config
from levy.core.model import Supply

EXAMPLES = Path(__file__).resolve().parents[2] / "config"


def test_the_example_site_loads() -> None:
    config = load_config(EXAMPLES / "site.example.toml")
    assert config.site.id == "ekibastuz-1"
    assert config.site.inventory == EXAMPLES / "meters.example.csv"
    assert {meter.format for meter in config.meters} == set(MeterFormat)
    assert {meter.supply for meter in config.meters} == set(Supply)
    assert len(config.meters) > 5
    assert config.influx is not None
