"""The site-wide tables of a site's TOML file (meters and the whole file are elsewhere)."""

from datetime import date
from decimal import Decimal
from typing import Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from levy.config.base import Section
from levy.config.context import DEFAULT_TIMEZONE, context_of, with_default
from levy.config.errors import ConfigError
from levy.config.secret import resolve_secret
from levy.config.values import (
    ConfigPath,
    EnvName,
    LocalTime,
    NonEmptyStr,
    NonNegativeInt,
    Port,
    PositiveInt,
    Tariff,
    TopicFilter,
    name_problem,
)
from levy.config.zone import load_zone
from levy.core.model import Supply
from levy.ledger.signing import KeyFileError, Signer, load_signer

SITE_ID_FORBIDDEN = "/\\+#"
"""The id names a file and a folder (no path separators) and the MQTT client id, which names the
drain topic `levy/drain/<client id>` (no wildcards)."""


class SiteSection(Section):
    """`[site]`. The id is kept as written; it names the ledger file, the archive folder and the
    MQTT client id, so it holds no character that would break one of them."""

    id: str
    timezone: str = DEFAULT_TIMEZONE
    supply: Supply = Supply.GRID
    """The supply of meters that don't name their own."""
    inventory: ConfigPath | None = None
    """A CSV of further meters, same columns as `[[meters]]`."""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if value.startswith((".", "-")):
            raise ValueError("should not start with '.' or '-'")
        if problem := name_problem(value, SITE_ID_FORBIDDEN):
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            load_zone(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name like Asia/Almaty"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return load_zone(self.timezone)


class MqttConfig(Section):
    """`[mqtt]`. `client_id` defaults to `levy-<site.id>`: the broker keys the persistent session
    (and the readings it holds while the daemon is down) by it, so it must not change by itself."""

    host: NonEmptyStr = "127.0.0.1"
    port: Port = 1883
    client_id: NonEmptyStr
    topics: list[TopicFilter] = Field(default_factory=lambda: ["#"], min_length=1)
    username: NonEmptyStr | None = None
    password_env: EnvName | None = None
    password_file: ConfigPath | None = None
    tls_ca_file: ConfigPath | None = None
    tls_cert_file: ConfigPath | None = None
    tls_key_file: ConfigPath | None = None
    keepalive: int = Field(60, ge=1, le=65535)
    qos: int = 1

    @model_validator(mode="before")
    @classmethod
    def _client_id_from_site(cls, data: Any, info: ValidationInfo) -> Any:
        site_id = context_of(info).site_id
        return data if site_id is None else with_default(data, "client_id", f"levy-{site_id}")

    @field_validator("qos")
    @classmethod
    def _at_least_once(cls, value: int) -> int:
        if value not in (1, 2):
            raise ValueError(
                "should be 1 or 2: with QoS 0 the broker drops readings while the daemon is down"
            )
        return value

    @model_validator(mode="after")
    def _consistent_credentials(self) -> Self:
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("set password_env or password_file, not both")
        if self.username is None and (self.password_env or self.password_file):
            raise ValueError("a password needs a username")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        return self

    def resolve_password(self) -> SecretStr | None:
        """Read at connect time, not load time, so tools that never connect (report, replay)
        work on machines without the secret. Raises ConfigError naming the variable or file."""
        return resolve_secret("mqtt.password", self.password_env, self.password_file)


class LedgerConfig(Section):
    """`[ledger]`. `path` defaults to `var/<site.id>.sqlite` beside the TOML file, so every
    command finds the same ledger whatever directory it runs from."""

    path: ConfigPath
    accounting_start: LocalTime | None = None
    """When the ledger starts accounting; absent, it is fixed when the ledger is created."""

    @model_validator(mode="before")
    @classmethod
    def _path_from_site(cls, data: Any, info: ValidationInfo) -> Any:
        site_id = context_of(info).site_id
        return data if site_id is None else with_default(data, "path", f"var/{site_id}.sqlite")


class InfluxConfig(Section):
    """`[influx]`, InfluxDB 2.x; absent, the ledger is the only output."""

    url: str
    org: NonEmptyStr
    bucket: NonEmptyStr
    token_env: EnvName | None = None
    token_file: ConfigPath | None = None
    interval_s: PositiveInt = 10
    """How often the daemon sends what the ledger committed since the last export."""
    meter_interval_s: PositiveInt = 60
    """At most one levy_meter point per meter per this many seconds."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials don't belong in the URL: use token_env or token_file")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} should be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _one_token_source(self) -> Self:
        if (self.token_env is None) == (self.token_file is None):
            raise ValueError("set exactly one of token_env and token_file")
        return self

    def resolve_token(self) -> SecretStr:
        """Raises ConfigError naming the variable or file when the token can't be read."""
        token = resolve_secret("influx.token", self.token_env, self.token_file)
        assert token is not None, "validation guarantees one token source"
        return token


class RulesConfig(Section):
    """`[rules]`: the accounting thresholds of DESIGN.md section 2."""

    stale_after_s: PositiveInt = 900
    implausible_factor: Decimal = Field(Decimal("1.2"), ge=1, allow_inf_nan=False)
    """At least 1: below, a meter running at its rated power would be called implausible."""
    max_clock_skew_s: NonNegativeInt = 300


class RateConfig(Section):
    """One `[[rates]]` entry, in force from `from` (attribute `from_`) until the next entry's."""

    from_: LocalTime = Field(alias="from")
    grid: Tariff
    off_grid: Tariff

    def for_supply(self, supply: Supply) -> Decimal:
        return self.grid if supply is Supply.GRID else self.off_grid


DEFAULT_RATES = ({"from": date(2024, 1, 1), "grid": Decimal(2), "off_grid": Decimal(1)},)
"""The statutory rates (tenge per kWh) in force since 2024-01-01."""


class ReconciliationConfig(Section):
    """`[reconciliation]`: how far the billed kWh may differ from the site's main meters or the
    utility's invoice before the report flags the line."""

    tolerance_pct: Decimal = Field(Decimal(2), ge=0, allow_inf_nan=False)


class EvidenceConfig(Section):
    """`[evidence]`: tamper evidence. With `signing_key_file` (an Ed25519 private key, PEM PKCS8
    or 32 raw bytes) every close record is signed, and its public key is stored beside the
    signature."""

    signing_key_file: ConfigPath | None = None

    def signer(self) -> Signer | None:
        """Read when a month closes (and by check-config); raises ConfigError naming the file,
        never its content."""
        if self.signing_key_file is None:
            return None
        try:
            return load_signer(self.signing_key_file)
        except KeyFileError as exc:
            raise ConfigError([f"evidence.signing_key_file: {exc}"]) from None


class DaemonConfig(Section):
    """`[daemon]`: tuning of the live daemon."""

    batch_max_messages: PositiveInt = 500
    batch_max_ms: NonNegativeInt = 200
    sweep_interval_s: PositiveInt = 60
    queue_max: PositiveInt = 10000
    health_port: int = Field(9108, ge=0, lt=65536)
    """0 turns the health endpoint off."""
    health_host: NonEmptyStr = "127.0.0.1"
    max_payload_bytes: int = Field(65536, ge=1024, le=65536)
    """A longer payload is refused `oversized` before anything reads it. At most 64 KiB: the
    raw archive keeps every payload up to that whole, so a replay refuses what live refused."""


class ArchiveConfig(Section):
    """`[archive]`: the raw message archive that a replay rebuilds the ledger from.
    `dir` defaults to `var/archive/<site.id>` beside the TOML file."""

    dir: ConfigPath
    retention_days: NonNegativeInt = 0
    """0 keeps the archive forever. Otherwise an hour older than this is deleted only once every
    month it falls in is closed and was closed `keep_closed_years` ago (levy.app.retention)."""
    keep_closed_years: PositiveInt = 5
    """How many calendar years after a month is closed its hours are kept, whatever
    `retention_days` says. The archive is the evidence an inspector re-runs to reproduce a filed
    figure, and the tax audit period (Kazakhstan's Tax Code art. 48) is 5 years: lowering this
    below the audit period that applies is the operator's responsibility."""

    @model_validator(mode="before")
    @classmethod
    def _dir_from_site(cls, data: Any, info: ValidationInfo) -> Any:
        site_id = context_of(info).site_id
        return data if site_id is None else with_default(data, "dir", f"var/archive/{site_id}")
