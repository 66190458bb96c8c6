"""Value types shared by the sections. Money and energy stay `Decimal` (TOML floats are parsed as
decimals), relative paths are read beside the TOML file so a command works from any directory,
and times without an offset are read in the site zone (one the zone makes ambiguous or skips is
refused: a configured time has no receive time to choose a candidate by)."""

import re
import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from levy.config.context import context_of
from levy.config.topics import filter_problem
from levy.core.localtime import unique_local_ms

NonEmptyStr = Annotated[str, Field(min_length=1)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Port = Annotated[int, Field(gt=0, lt=65536)]
Tariff = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
"""Tenge per kWh."""
RatedKw = Annotated[Decimal, Field(gt=0, decimal_places=3, allow_inf_nan=False)]
"""At most 3 decimals: the core keeps rated power in whole watts."""

NAME_MAX = 200


def name_problem(value: str, forbidden: str = "") -> str | None:
    """Ids are kept as the site writes them (spaces, commas, `=`, quotes, Cyrillic: they reach
    reports and dashboards unchanged); what would make them ambiguous or break a line is not."""
    if not value or value != value.strip():
        return "should not be empty or start or end with a space"
    if len(value) > NAME_MAX:
        return f"should be at most {NAME_MAX} characters"
    if not value.isprintable() and any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value
    ):  # a printable text holds none of them: the walk is for the rare one that is not
        return "should not hold control characters or line breaks"
    if forbidden and (found := sorted({c for c in value if c in forbidden})):
        return f"should not hold {' or '.join(repr(c) for c in found)}"
    return None


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name (letters, digits, _)")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]


def _topic_filter(value: str) -> str:
    if problem := filter_problem(value):
        raise ValueError(problem)
    return value


TopicFilter = Annotated[str, AfterValidator(_topic_filter)]


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("should not be empty")
    return value


def _beside_config(value: Path, info: ValidationInfo) -> Path:
    return context_of(info).base_dir / value


ConfigPath = Annotated[Path, BeforeValidator(_not_blank), AfterValidator(_beside_config)]
"""A path, relative to the folder of the TOML file unless absolute."""


def _in_site_zone(value: Any, info: ValidationInfo) -> datetime:
    zone = context_of(info).zone
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        raise ValueError("should be a date or a date-time")
    try:
        if moment.tzinfo is None:
            unique_local_ms(moment, zone)  # ValueError naming both candidates, if there are two
            aware = moment.replace(tzinfo=zone)
        else:
            aware = moment
        utc(aware)  # beyond datetime's range in UTC: refused here rather than where compared
        return aware.astimezone(zone)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is out of range") from None


LocalTime = Annotated[datetime, BeforeValidator(_in_site_zone)]
"""An aware datetime in the site zone. A date is local midnight, a naive date-time is local time,
one with an offset is that instant. A local time the zone's clock changes make ambiguous (the
repeated hour) or skip is an error naming both candidates, to be written with an offset."""


def utc(moment: datetime) -> datetime:
    """A LocalTime's instant, for comparing: two times in one zone compare by their wall clocks,
    so the repeated hour's second pass (fold 1) would tie with its first."""
    return moment.astimezone(UTC)
