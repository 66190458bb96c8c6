"""`levy-monitor run`: the daemon."""

import argparse

from levy.cli.common import load_site

HELP = "the daemon: MQTT in, ledger, InfluxDB out, scheduled sweep and close"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments but the common ones."""


def run(args: argparse.Namespace) -> int:
    from levy.app.daemon import run_daemon  # its exporter loads influxdb-client: only run pays

    return run_daemon(load_site(args))
