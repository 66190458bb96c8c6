"""The whole of one site's configuration."""

from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)

from levy.config.base import Section
from levy.config.context import LoadContext
from levy.config.entries import validated_meters
from levy.config.records import Meter
from levy.config.sections import (
    DEFAULT_RATES,
    ArchiveConfig,
    DaemonConfig,
    EvidenceConfig,
    InfluxConfig,
    LedgerConfig,
    MqttConfig,
    RateConfig,
    ReconciliationConfig,
    RulesConfig,
    SiteSection,
)

_OPTIONAL_TABLES = ("mqtt", "ledger", "rules", "daemon", "archive", "reconciliation", "evidence")


class SiteConfig(Section):
    """Built by `load_config` (or `parse_config`), which supplies the LoadContext that resolves
    paths, site-zone times and site-derived defaults, and runs the checks across tables."""

    site: SiteSection
    mqtt: MqttConfig
    ledger: LedgerConfig
    influx: InfluxConfig | None = None
    rules: RulesConfig
    rates: list[RateConfig] = Field(min_length=1)
    meters: Annotated[list[Meter], WrapValidator(validated_meters)]
    """Validated as `MeterConfig`s (or as plainly valid, entries.py), kept as `Meter`s."""
    daemon: DaemonConfig
    archive: ArchiveConfig
    reconciliation: ReconciliationConfig
    evidence: EvidenceConfig
    _source: Path = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _built_by_the_loader(cls, data: Any, info: ValidationInfo) -> Any:
        _loader_context(info)
        return data

    @model_validator(mode="before")
    @classmethod
    def _absent_tables_take_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        defaults: dict[str, Any] = {table: {} for table in _OPTIONAL_TABLES}
        defaults["rates"] = list(DEFAULT_RATES)
        defaults["meters"] = []
        return defaults | data

    @field_validator("meters")
    @classmethod
    def _some_meters(cls, value: list[Meter]) -> list[Meter]:
        if not value:
            raise ValueError("no meters: add [[meters]] tables or a site.inventory CSV")
        return value

    @model_validator(mode="after")
    def _attach_source(self, info: ValidationInfo) -> Self:
        source = _loader_context(info).source
        assert source is not None, "the loader's context always names its source"
        self._source = source
        return self

    @property
    def source(self) -> Path:
        """The TOML file this configuration was read from."""
        return self._source

    @property
    def zone(self) -> ZoneInfo:
        return self.site.zone


def _loader_context(info: ValidationInfo) -> LoadContext:
    """Without the loader's context, paths and times would silently resolve against the working
    directory and the default zone, and the checks across tables would not run."""
    context = info.context
    if not isinstance(context, LoadContext) or context.source is None:
        raise TypeError("build a SiteConfig with load_config or parse_config")
    return context
