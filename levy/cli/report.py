"""`levy-monitor report`: the filing figures of a month or a quarter, for one site or, with `-c`
repeated, for each of several sites (one ledger each) and their consolidated total; or one
site's filing pack (`--format html|pdf`)."""

import argparse
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from levy.app.errors import UsageError
from levy.app.record import apply_rates, check_record
from levy.app.site import Site
from levy.cli.common import (
    open_ledger,
    peek_accounting_start,
    refuse_before_start,
    require_ledger,
    site_at,
    unusable_ledger,
)
from levy.cli.output import deliver, refuse_terminal, refuse_unwritable
from levy.config import ConfigError
from levy.core.calendar import Period, parse_period
from levy.ledger.schema import LedgerVersionError
from levy.ledger.store import Ledger, LedgerError
from levy.report.consolidate import consolidate
from levy.report.figures import build_figures
from levy.report.pack.model import Pack, pack_of
from levy.report.render import render_json, to_document
from levy.report.sheet import render_csv, render_sites_csv
from levy.report.table import render_sites_table, render_table

log = logging.getLogger("levy")

HELP = "the filing figures of a month or a quarter, for one site or several"

DEFAULT_CONFIG = Path("site.toml")

ONE_SITE = {"json": render_json, "csv": render_csv, "table": render_table}
SEVERAL_SITES = {"json": render_json, "csv": render_sites_csv, "table": render_sites_table}
PACKS = ("html", "pdf")


def render_pack(kind: str, pack: Pack) -> bytes:
    """The pack's renderers load matplotlib and fpdf2 (most of a second): imported here, only a
    pack pays for them, not every command's start."""
    if kind == "pdf":
        from levy.report.pack.pdf import render_pdf

        return render_pdf(pack)
    from levy.report.pack.html import render_html

    return render_html(pack).encode("utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, help="YYYY-MM or YYYY-Qn")
    parser.add_argument(
        "--format", choices=["table", "json", "csv", "html", "pdf"], default="table"
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)"
    )


def run(args: argparse.Namespace) -> int:
    sites = load_sites([Path(config) for config in args.configs or [DEFAULT_CONFIG]])
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    several = len(sites) > 1
    refuse_unwritable(args.output)
    if args.format in PACKS:
        if several:
            raise UsageError(f"--format {args.format} is one site's filing pack: give one -c")
        if args.format == "pdf":
            refuse_terminal("PDF", args.output)
    for site in sites:
        with refusals_of(site, several):
            require_ledger(site)
            refuse_before_start(site, period, peek_accounting_start(site))
    if args.format in PACKS:
        with refusals_of(sites[0], several):
            pack = site_pack(sites[0], period)
        deliver(render_pack(args.format, pack), args.output)
        return 0
    documents = []
    for site in sites:
        with refusals_of(site, several):
            documents.append(site_document(site, period))
    if several:
        text = SEVERAL_SITES[args.format](consolidate(documents))
    else:
        text = ONE_SITE[args.format](documents[0])
    deliver(text.encode("utf-8"), args.output)
    return 0


@contextmanager
def reading(site: Site, period: Period) -> Iterator[tuple[Ledger, dict[str, Any]]]:
    """The site's ledger, open, and its report of the period, as it reads alone."""
    with open_ledger(site, must_exist=True, writer=False) as ledger:
        refuse_before_start(site, period, ledger.accounting_start_ms)
        if check_record(site, ledger) is not None:
            apply_pending_rates(site)
        figures = build_figures(
            ledger,
            site.id,
            site.calendar,
            site.rates,
            period,
            tolerance_pct=site.config.reconciliation.tolerance_pct,
        )
        yield ledger, to_document(figures, site.calendar)


def site_document(site: Site, period: Period) -> dict[str, Any]:
    with reading(site, period) as (_, document):
        return document


def site_pack(site: Site, period: Period) -> Pack:
    """The report and the days from one reading of the ledger: they agree figure by figure."""
    with reading(site, period) as (ledger, document):
        return pack_of(ledger, site.calendar, period, document)


def load_sites(configs: list[Path]) -> list[Site]:
    """One site per configuration; several must be distinct sites with ledgers of their own.
    Every configuration's problems are listed, each naming its file."""
    if len(configs) == 1:
        return [site_at(configs[0])]
    seen: dict[Path, Path] = {}
    for config in configs:
        earlier = seen.setdefault(config.resolve(), config)
        if earlier is not config:
            spelled = "" if earlier == config else f" (as {earlier})"
            raise UsageError(f"{config} is given twice{spelled}: give each site once")
    sites, problems = [], []
    for config in configs:
        try:
            sites.append(site_at(config))
        except ConfigError as exc:
            problems += [in_file(config, problem) for problem in exc.problems]
    if problems:
        raise ConfigError(problems)
    refuse_shared(configs, sites)
    return sites


def in_file(config: Path, problem: str) -> str:
    return problem if problem.startswith(f"{config}: ") else f"{config}: {problem}"


def refuse_shared(configs: list[Path], sites: list[Site]) -> None:
    """Each site is reported from its own ledger: a site id or a ledger twice would count the
    same energy twice."""
    ids: dict[str, Path] = {}
    ledgers: dict[Path, Path] = {}
    for config, site in zip(configs, sites, strict=True):
        other = ids.setdefault(site.id, config)
        if other is not config:
            raise UsageError(f"{other} and {config} are both site {site.id}: give each site once")
        ledger = site.config.ledger.path
        other = ledgers.setdefault(ledger.resolve(), config)
        if other is not config:
            raise UsageError(
                f"{other} and {config} share the ledger {ledger}: each site keeps its own"
            )


@contextmanager
def refusals_of(site: Site, several: bool) -> Iterator[None]:
    """Over several sites a refusal names the site it is about; a file SQLite cannot use as a
    ledger is named, as every command names it."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        problem = unusable_ledger(exc, f"ledger {site.config.ledger.path}")
    except (UsageError, LedgerError, LedgerVersionError) as exc:
        if not several:
            raise
        problem = str(exc)
    else:
        return
    raise UsageError(f"site {site.id}: {problem}" if several else problem) from None


def apply_pending_rates(site: Site) -> None:
    """A `[[rates]]` change that only touches open months applies to them: `report` re-rates
    them itself unless a daemon holds the ledger (it applies the change when restarted)."""
    try:
        writer = Ledger(site.config.ledger.path)
    except LedgerError:
        log.warning(
            "[[rates]] differs from the ledger's schedule; the running daemon applies it to the "
            "open months when restarted, and this report shows the ledger's rates"
        )
        return
    with writer:
        apply_rates(site, writer)
