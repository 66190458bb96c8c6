"""What `simulate` needs of a site's configuration, as protocols the configuration satisfies.

The collector imports nothing of `levy/` but its model (DESIGN.md section 3, enforced by
tests/core/test_purity.py), so the simulator names the few attributes it reads instead of
importing `levy.config.SiteConfig`; the command line passes a `SiteConfig`, which fits.
"""

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from levy.core.model import Measure

DEFAULT_TIMEZONE = "Asia/Almaty"
"""DESIGN.md's default site zone, for a fleet described without a configuration."""


class Secret(Protocol):
    def get_secret_value(self) -> str: ...


class BrokerConfig(Protocol):
    """`[mqtt]`."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def username(self) -> str | None: ...
    @property
    def tls_ca_file(self) -> Path | None: ...
    @property
    def tls_cert_file(self) -> Path | None: ...
    @property
    def tls_key_file(self) -> Path | None: ...
    @property
    def keepalive(self) -> int: ...

    def resolve_password(self) -> Secret | None:
        """The password from its variable or file; raises the configuration's own error."""
        ...


class ConfiguredMeter(Protocol):
    """A `[[meters]]` entry."""

    @property
    def id(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def rated_kw(self) -> Decimal: ...
    @property
    def measure(self) -> Measure | None: ...
    @property
    def channel(self) -> int | None: ...
    @property
    def component(self) -> str | None: ...


class SiteSettings(Protocol):
    """The whole configuration, as far as the simulator reads it."""

    @property
    def zone(self) -> ZoneInfo: ...
    @property
    def meters(self) -> Sequence[ConfiguredMeter]: ...
    @property
    def mqtt(self) -> BrokerConfig: ...
