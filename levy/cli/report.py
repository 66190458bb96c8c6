"""`levy-monitor report`: the filing figures of a month or a quarter."""

import argparse
import logging
import sys

from levy.app.errors import UsageError
from levy.app.record import apply_rates, check_record
from levy.app.site import Site
from levy.cli.common import load_site, open_ledger, peek_accounting_start, refuse_before_start
from levy.core.calendar import parse_period
from levy.ledger.store import Ledger, LedgerError
from levy.report.figures import build_figures
from levy.report.render import render_json, to_document
from levy.report.sheet import render_csv
from levy.report.table import render_table

log = logging.getLogger("levy")

HELP = "the filing figures of a month or a quarter"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, help="YYYY-MM or YYYY-Qn")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")


def run(args: argparse.Namespace) -> int:
    site = load_site(args)
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if site.config.ledger.path.exists():
        refuse_before_start(site, period, peek_accounting_start(site))
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
    document = to_document(figures, site.calendar)
    render = {"json": render_json, "csv": render_csv, "table": render_table}[args.format]
    emit(render(document))
    return 0


def emit(text: str) -> None:
    """UTF-8 whatever the locale: ids are printed as the site wrote them."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


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
