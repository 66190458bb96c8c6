"""`levy-monitor run`: the daemon."""

import argparse

from levy.app.heap import settled_heap
from levy.cli.common import load_site

HELP = "the daemon: MQTT in, ledger, InfluxDB out, scheduled sweep and close"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments but the common ones."""


def run(args: argparse.Namespace) -> int:
    from levy.app.daemon import run_daemon  # the daemon's modules: only run pays

    # a start makes objects by the 100,000 at a large site, and the collector's passes over them
    # took about a second of it
    with settled_heap():
        return run_daemon(load_site(args))
