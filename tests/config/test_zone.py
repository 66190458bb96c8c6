"""Zones come from the pinned tzdata package, whatever tz database the host has."""

import re
import shutil
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
import tzdata

from levy.config import SiteConfig
from levy.config.context import DEFAULT_TIMEZONE, LoadContext
from levy.config.zone import load_zone, tzdata_version
from tests.config.site_samples import METER

BEFORE = datetime(2024, 2, 29, 12)
AFTER = datetime(2024, 3, 2, 12)
"""Asia/Almaty moved from +06 to +05 at midnight on 1 March 2024 (tzdata 2024a)."""


def offset(zone: ZoneInfo, moment: datetime) -> timedelta | None:
    return moment.replace(tzinfo=zone).utcoffset()


def test_a_zone_is_read_from_tzdata_once() -> None:
    almaty = load_zone("Asia/Almaty")
    assert almaty is load_zone("Asia/Almaty")
    assert almaty.key == str(almaty) == "Asia/Almaty"
    assert offset(almaty, BEFORE) == timedelta(hours=6)
    assert offset(almaty, AFTER) == timedelta(hours=5)
    assert re.fullmatch(r"\d{4}[a-z]", tzdata_version())
    assert tzdata_version() == tzdata.IANA_VERSION


def test_the_host_tz_database_is_not_consulted(tmp_path: Path) -> None:
    """A host whose Asia/Almaty is wrong (here: Tokyo's rules, +09) changes nothing."""
    (tmp_path / "Asia").mkdir()
    tokyo = resources.files("tzdata.zoneinfo").joinpath("Asia", "Tokyo")
    with tokyo.open("rb") as source, (tmp_path / "Asia" / "Almaty").open("wb") as target:
        shutil.copyfileobj(source, target)
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    try:
        assert offset(ZoneInfo.no_cache("Asia/Almaty"), BEFORE) == timedelta(hours=9)
        fresh = load_zone.__wrapped__("Asia/Almaty")
        assert offset(fresh, BEFORE) == timedelta(hours=6)
        assert offset(fresh, AFTER) == timedelta(hours=5)
    finally:
        zoneinfo.reset_tzpath()


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "Asia", "../../etc/passwd", "/etc/localtime", "tzdata.zi", ""]
)
def test_an_unknown_zone_is_refused_by_name(name: str) -> None:
    with pytest.raises(ZoneInfoNotFoundError, match=f"unknown time zone {re.escape(repr(name))}"):
        load_zone(name)


def test_leapseconds_is_data_in_tzdata_but_not_a_zone() -> None:
    with pytest.raises(ZoneInfoNotFoundError, match=r"tzdata .* has no such zone"):
        load_zone("leapseconds")


def test_the_configuration_uses_tzdata_zones(load: Callable[[str], SiteConfig]) -> None:
    config = load('[site]\nid = "site-1"\ntimezone = "Asia/Kathmandu"\n' + METER)
    assert config.zone is load_zone("Asia/Kathmandu")
    assert LoadContext(base_dir=Path()).zone is load_zone(DEFAULT_TIMEZONE)
