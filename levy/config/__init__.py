"""A site's configuration: one TOML file, optionally with a CSV meter inventory beside it.

`load_config` is the way in; it raises `ConfigError` listing every problem with its key path.
"""

from levy.config.context import DEFAULT_TIMEZONE
from levy.config.errors import ConfigError
from levy.config.load import load_config, parse_config
from levy.config.meters import MeterConfig, MeterFormat
from levy.config.records import Meter
from levy.config.sections import (
    ArchiveConfig,
    DaemonConfig,
    InfluxConfig,
    LedgerConfig,
    MqttConfig,
    RateConfig,
    RulesConfig,
    SiteSection,
)
from levy.config.site import SiteConfig

__all__ = [
    "DEFAULT_TIMEZONE",
    "ArchiveConfig",
    "ConfigError",
    "DaemonConfig",
    "InfluxConfig",
    "LedgerConfig",
    "Meter",
    "MeterConfig",
    "MeterFormat",
    "MqttConfig",
    "RateConfig",
    "RulesConfig",
    "SiteConfig",
    "SiteSection",
    "load_config",
    "parse_config",
]
