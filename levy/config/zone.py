"""Time zones from the pinned `tzdata` package, never from the host's tz database.

A month boundary is an instant in the record: a host update of its zone files must not move it.
So every zone named in a configuration is read from the `tzdata` wheel this project pins, whose
IANA release is `tzdata_version()`, whatever the host (or Python's own search path) holds.
"""

import copyreg
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzdata

_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
"""An IANA zone name: no dots, so neither a path outside the data nor its index files."""


@cache
def load_zone(name: str) -> ZoneInfo:
    """The zone `name` (e.g. `Asia/Almaty`) as the pinned tzdata defines it; the same object for
    the same name. ZoneInfoNotFoundError (a KeyError) for a name tzdata doesn't hold."""
    unknown = ZoneInfoNotFoundError(
        f"unknown time zone {name!r}: tzdata {tzdata_version()} has no such zone; "
        "use an IANA name like Asia/Almaty"
    )
    if not _NAME.fullmatch(name):
        raise unknown
    resource = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    if not resource.is_file():
        raise unknown
    with resource.open("rb") as data:
        try:
            return ZoneInfo.from_file(data, key=name)
        except ValueError:
            raise unknown from None


def tzdata_version() -> str:
    """The IANA release of the zone rules in use, e.g. `2025b`."""
    return tzdata.IANA_VERSION


def _by_name(zone: ZoneInfo) -> tuple[Callable[[str], ZoneInfo], tuple[str]]:
    """A zone crosses to another process (the daemon's exporter) as its name, and is loaded
    there from the same pinned tzdata: a zone read from a file cannot be pickled."""
    return load_zone, (zone.key,)


copyreg.pickle(ZoneInfo, _by_name)
