"""What every command shares: the site, its ledger, times on the command line, exit codes."""

import argparse
from datetime import datetime
from pathlib import Path

from levy.app.errors import UsageError
from levy.app.site import Site
from levy.config import load_config
from levy.core.localtime import unique_local_ms
from levy.core.units import datetime_to_ms
from levy.ledger.store import Ledger

EXIT_USAGE = 2
"""Bad input: configuration, arguments, an unreadable file, a period that can't be closed yet."""

EXIT_UNAVAILABLE = 3
"""A database that could not be reached or did not answer: try again later."""

EXIT_TAMPERED = 4
"""`verify`: the ledger does not match its own evidence (or a replay of its archive)."""


def load_site(args: argparse.Namespace) -> Site:
    return Site.from_config(load_config(Path(args.config)))


def open_ledger(site: Site, must_exist: bool, writer: bool = True) -> Ledger:
    path = site.config.ledger.path
    if must_exist and not path.exists():
        raise UsageError(f"no ledger at {path}: nothing has been recorded for this site yet")
    return Ledger(path, writer)


def parse_time(site: Site, text: str | None, option: str) -> int | None:
    """ISO 8601; a naive time is read in the site zone, and one the zone repeats or skips (a
    clock change) is refused, naming both candidates: there is no receive time to choose by."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time") from exc
    try:
        if moment.tzinfo is None:
            return unique_local_ms(moment, site.config.zone)
        return datetime_to_ms(moment)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OverflowError:
        raise UsageError(f"{option} {text!r} is out of range") from None
