"""`levy-monitor check-config`: every error of the configuration, with its key path, all at once:
duplicates among the rest, and what `run` would fail on when it starts (an unset secret variable,
an unreadable secret or TLS file)."""

import argparse
from pathlib import Path

from levy.app.record import check_meters, check_record
from levy.app.site import Site
from levy.config import load_config
from levy.ledger.store import Ledger

HELP = "validate the configuration and list every error"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments but the common ones."""


def run(args: argparse.Namespace) -> int:
    site = Site.from_config(load_config(Path(args.config), sources=True))
    if site.config.ledger.path.exists():
        with Ledger(site.config.ledger.path, writer=False) as ledger:
            check_record(site, ledger)
            check_meters(ledger, {meter.id for meter in site.config.meters})
    print(f"{args.config}: site {site.id}, {len(site.config.meters)} meters, configuration valid")
    return 0
