"""What validating one section needs from outside it: where the file lives and the site's own
settings, so that defaults such as `levy-<site.id>` and times such as a bare date can be resolved
where they are validated, and every error keeps its own key path."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationInfo

from levy.config.zone import load_zone
from levy.core.model import Supply

DEFAULT_TIMEZONE = "Asia/Almaty"


@dataclass(frozen=True)
class LoadContext:
    """`site_id` is None only when a section is validated on its own (tests, tools); then the
    defaults derived from it are not applied and those keys become required."""

    base_dir: Path
    source: Path | None = None
    site_id: str | None = None
    zone: ZoneInfo = field(default_factory=lambda: load_zone(DEFAULT_TIMEZONE))
    supply: Supply = Supply.GRID


def context_of(info: ValidationInfo) -> LoadContext:
    if isinstance(info.context, LoadContext):
        return info.context
    return LoadContext(base_dir=Path.cwd())


def with_default(data: Any, key: str, value: Any) -> Any:
    """Fill a key a model's defaults can't know (they depend on the site) before validation."""
    if isinstance(data, dict) and key not in data:
        return {**data, key: value}
    return data
