"""`levy-monitor check-config`: every error of the configuration, with its key path."""

import argparse

from levy.app.record import check_meters, check_record
from levy.cli.common import load_site
from levy.ledger.store import Ledger

HELP = "validate the configuration and list every error"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments but the common ones."""


def run(args: argparse.Namespace) -> int:
    site = load_site(args)
    if site.config.ledger.path.exists():
        with Ledger(site.config.ledger.path, writer=False) as ledger:
            check_record(site, ledger)
            check_meters(ledger, {meter.id for meter in site.config.meters})
    print(f"{args.config}: site {site.id}, {len(site.config.meters)} meters, configuration valid")
    return 0
