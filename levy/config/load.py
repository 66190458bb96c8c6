"""Reading a site's TOML file (and its CSV inventory) into a validated SiteConfig."""

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from levy.config.checks import cross_checks, partial_checks
from levy.config.context import LoadContext
from levy.config.errors import ConfigError, Location, dotted, problems_from
from levy.config.inventory import Inventory, read_inventory
from levy.config.meters import MeterConfig
from levy.config.secret import inline_secret_problem, pop_inline_secrets, source_problems
from levy.config.sections import SiteSection
from levy.config.site import SiteConfig
from levy.config.values import ConfigPath

_INVENTORY: TypeAdapter[Path | None] = TypeAdapter(ConfigPath | None)


def load_config(path: Path, sources: bool = False) -> SiteConfig:
    """Raises ConfigError listing every problem found, each naming where it is. With `sources`
    (check-config), what the daemon reads when it starts is checked too: each secret's variable
    or file, each TLS file; other commands work on machines without them."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text"]) from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    return parse_config(data, path, sources)


def parse_config(data: Mapping[str, Any], source: Path, sources: bool = False) -> SiteConfig:
    """Validate a TOML document already parsed (decimals as Decimal), as if read from `source`:
    relative paths, the inventory among them, are read beside it. Handy for tests."""
    document: dict[str, Any] = copy.deepcopy(dict(data))
    problems = [
        f"{dotted(location)}: {inline_secret_problem(str(location[-1]))}"
        for location in pop_inline_secrets(document)
    ]
    context, inventory_path = _site_context(document, source)
    toml_meters = len(document["meters"]) if isinstance(document.get("meters"), list) else 0
    inventory = None
    if inventory_path is not None:
        inventory = read_inventory(
            inventory_path,
            columns=list(MeterConfig.model_fields),
            required=[
                name for name, info in MeterConfig.model_fields.items() if info.is_required()
            ],
            distinct=("id", "topic"),
        )
        problems += inventory.problems
        if isinstance(document.get("meters", []), list):
            document["meters"] = [
                *document.get("meters", []),
                *(row.cells for row in inventory.rows),
            ]
    where = _Where(source, toml_meters, inventory)
    try:
        config = SiteConfig.model_validate(document, context=context)
    except ValidationError as exc:
        problems += problems_from(exc, where)
        problems += partial_checks(document, context, where)
    else:
        problems += cross_checks(config, where)
    if sources:
        problems += source_problems(document, context)
    if problems:
        raise ConfigError(problems)
    return config


def _site_context(data: dict[str, Any], source: Path) -> tuple[LoadContext, Path | None]:
    """`[site]` first, since the other tables' defaults and local times, and the inventory's
    location, depend on it."""
    context = LoadContext(base_dir=source.absolute().parent, source=source)
    raw = data.get("site")
    try:
        site = SiteSection.model_validate(raw, context=context)
    except ValidationError:
        # The full validation reports what is wrong. Meanwhile an empty id keeps the defaults
        # derived from it (client_id, ledger path) from adding errors of their own, and the
        # inventory is still read so that its problems are reported in the same run.
        try:
            inventory = _INVENTORY.validate_python(
                raw.get("inventory") if isinstance(raw, dict) else None, context=context
            )
        except ValidationError:
            inventory = None
        return replace(context, site_id=""), inventory
    return replace(context, site_id=site.id, zone=site.zone, supply=site.supply), site.inventory


@dataclass(frozen=True)
class _Where:
    """Names a location as the operator will look for it: a TOML key path, or for a meter from
    the inventory its file and line."""

    source: Path
    toml_meters: int
    inventory: Inventory | None

    def __call__(self, location: Location) -> str:
        match location:
            case ("meters", int(index), *rest) if self.inventory and index >= self.toml_meters:
                line = self.inventory.rows[index - self.toml_meters].line
                return self.inventory.where(line) + (f", {dotted(rest)}" if rest else "")
        return dotted(location) or str(self.source)
