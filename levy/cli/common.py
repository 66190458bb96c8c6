"""What every command shares: the site, its ledger, times on the command line, exit codes."""

import argparse
import sqlite3
from datetime import datetime
from pathlib import Path

from levy.app.errors import UsageError
from levy.app.site import Site
from levy.config import load_config
from levy.core.calendar import Period
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
    return site_at(Path(args.config))


def site_at(config: Path) -> Site:
    return Site.from_config(load_config(config))


def require_ledger(site: Site) -> None:
    path = site.config.ledger.path
    if not path.exists():
        raise UsageError(f"no ledger at {path}: nothing has been recorded for this site yet")


def open_ledger(site: Site, must_exist: bool, writer: bool = True) -> Ledger:
    if must_exist:
        require_ledger(site)
    return Ledger(site.config.ledger.path, writer)


def unusable_ledger(exc: sqlite3.DatabaseError, ledger: str) -> str:
    """What a command says of a file SQLite cannot use as a ledger."""
    return f"the ledger cannot be used: {exc} ({ledger})"


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


def refuse_before_start(site: Site, period: Period, accounting_start_ms: int | None) -> None:
    """A period that ends at or before the ledger's accounting start has nothing accounted in
    it: saying so beats a report of zeros (one that only begins before it reports from it)."""
    _, end = site.calendar.period_bounds(period)
    if accounting_start_ms is not None and end <= accounting_start_ms:
        iso = site.calendar.iso
        raise UsageError(
            f"nothing is accounted before {iso(accounting_start_ms)} (the ledger's accounting "
            f"start): period {period.label} ends at {iso(end)}"
        )


def peek_accounting_start(site: Site) -> int | None:
    """The ledger's accounting start, read without leaving a file behind: SQLite's read-only
    open of a ledger in WAL mode creates its missing -wal and -shm files and cannot remove them.
    While there is no -wal file no connection is open and the main file holds everything, so it
    is read as it is (`immutable`); otherwise, or for this site's ledger under another site id,
    or for a file that is no ledger, None (the ledger's own open says what is wrong)."""
    path = site.config.ledger.path
    if Path(f"{path}-wal").exists():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        finally:
            db.close()
        if meta.get("site_id") != site.id:
            return None
        return int(meta["accounting_start_ms"])
    except (sqlite3.Error, KeyError, ValueError):
        return None
