"""`levy-monitor invoice`: the utility's invoiced kWh for a month, which the report reconciles
against the billed meters.

Append-only: entering a month and supply again records a correction, which counts from then on,
and the earlier entries stay listed. Allowed for a closed month (an invoice is no part of the
filed figure) and while a daemon runs on the ledger (the engine keeps no invoice; see
`levy/ledger/invoices.py`)."""

import argparse
import contextlib
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from levy.app.errors import UsageError
from levy.app.record import check_record
from levy.app.site import Site
from levy.app.worker import wall_clock_ms
from levy.cli.common import load_site, open_ledger, peek_accounting_start, refuse_before_start
from levy.core.calendar import Period, parse_period
from levy.core.model import Supply
from levy.core.units import MS_PER_S
from levy.ledger.invoices import Invoice, enter_invoice
from levy.ledger.schema import SCHEMA_VERSION
from levy.ledger.store import Ledger, LedgerBusy, ledger_version

HELP = "record the utility's invoiced kWh for a month (reconciled in the report)"

KWH = re.compile(r"\d{1,12}(\.\d{1,3})?")
"""A plain decimal, to the 0.001 kWh the report prints."""
NOTE_MAX = 500


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, help="YYYY-MM: an invoice is for one month")
    parser.add_argument("--kwh", required=True, help="the invoiced kWh, up to 3 decimals")
    parser.add_argument(
        "--supply", choices=[supply.value for supply in Supply], default=Supply.GRID.value
    )
    parser.add_argument("--note", help="what the entry is (invoice number, a correction's reason)")


def run(args: argparse.Namespace) -> int:
    site = load_site(args)
    month = invoice_month(args.period)
    entered_ms = wall_clock_ms() // MS_PER_S * MS_PER_S  # to the second, as a person reads it
    invoice = Invoice(
        month.label, Supply(args.supply), invoiced_kwh(args.kwh), entered_ms, note(args.note)
    )
    if site.config.ledger.path.exists():
        refuse_before_start(site, month, peek_accounting_start(site))
    upgrade(site)
    with open_ledger(site, must_exist=True, writer=False) as ledger:
        check_record(site, ledger)
        refuse_before_start(site, month, ledger.accounting_start_ms)
    earlier = enter_invoice(site.config.ledger.path, invoice)
    print(entered(site, invoice, earlier))
    return 0


def invoice_month(text: str) -> Period:
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if period.is_quarter:
        months = period.month_labels()
        raise UsageError(
            f"--period {period.label}: an invoice is for one month; enter {months[0]}, "
            f"{months[1]} and {months[2]} one by one"
        )
    return period


def invoiced_kwh(text: str) -> Decimal:
    """A plain decimal above 0 with up to 3 decimals, kept exactly."""
    written = text.strip()
    if KWH.fullmatch(written) and Decimal(written) > 0:
        return Decimal(written).quantize(Decimal("0.001"))
    try:
        value = Decimal(written)
    except InvalidOperation:
        value = Decimal("NaN")
    if re.fullmatch(r"\d+,\d+", written):
        problem = f"write the decimals with a point: {written.replace(',', '.')}"
    elif value.is_finite() and value <= 0:
        problem = "should be more than 0"
    elif re.fullmatch(r"\d+\.\d{4,}", written):
        problem = "at most 3 decimals (the report prints kWh to 0.001)"
    else:
        problem = "is not a number of kWh (write it like 12345.678)"
    raise UsageError(f"--kwh {text!r}: {problem}")


def note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise UsageError("--note: should be one line without control characters")
    if len(text.strip()) > NOTE_MAX:
        raise UsageError(f"--note: should be at most {NOTE_MAX} characters")
    return text.strip()


def upgrade(site: Site) -> None:
    """A ledger from an older release is upgraded first, as `close` would upgrade it (a daemon
    holding the ledger upgraded it when it started)."""
    path = site.config.ledger.path
    if path.exists() and ledger_version(path) < SCHEMA_VERSION:
        with contextlib.suppress(LedgerBusy):
            Ledger(path).close()


def entered(site: Site, invoice: Invoice, earlier: list[Invoice]) -> str:
    iso = site.calendar.iso
    line = (
        f"invoice {invoice.period} {invoice.supply.value}: {invoice.kwh} kWh, entered "
        f"{iso(invoice.entered_ms)}"
    )
    if earlier:
        last = earlier[-1]
        line += f"; supersedes {last.kwh} kWh entered {iso(last.entered_ms)}"
    return line
