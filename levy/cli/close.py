"""`levy-monitor close`: freeze a month (or a quarter's three), as rule 10 allows."""

import argparse

from levy.app.closing import close_period
from levy.cli.common import load_site, open_ledger

HELP = "close (freeze) a month once the ledger clock allows it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, help="YYYY-MM (or YYYY-Qn: its three months)")


def run(args: argparse.Namespace) -> int:
    site = load_site(args)
    with open_ledger(site, must_exist=True) as ledger:
        engine = site.open_engine(ledger, None)
        closed = close_period(site, ledger, engine, args.period, ledger.clock_ms)
    if closed:
        print(f"closed {', '.join(closed)}")
    else:
        print(f"{args.period} was already closed")
    return 0
