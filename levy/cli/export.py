"""`levy-monitor export`: catch the ledger up into InfluxDB."""

import argparse
import sys

from levy.app.errors import UsageError
from levy.app.worker import wall_clock_ms
from levy.cli.common import EXIT_UNAVAILABLE, EXIT_USAGE, load_site, open_ledger
from levy.export.output import WriteFailure
from levy.ledger.store import LedgerBusy

HELP = "catch the ledger up into InfluxDB ([influx])"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all", action="store_true", help="send every row again (a new or restored bucket)"
    )


def run(args: argparse.Namespace) -> int:
    # influxdb-client takes a quarter of a second to load: only the commands that write pay
    from levy.export.exporter import Exporter
    from levy.export.influx import InfluxOutput

    site = load_site(args)
    if site.config.influx is None:
        raise UsageError("the configuration has no [influx] section: there is nowhere to export to")
    try:
        ledger = open_ledger(site, must_exist=True)
    except LedgerBusy:
        print(
            f"levy-monitor: a daemon is running on ledger {site.config.ledger.path}: it exports "
            f"by itself every {site.config.influx.interval_s} s (see /healthz), nothing to do",
            file=sys.stderr,
        )
        return 0
    with ledger:
        site.open_engine(ledger, None)
        exporter = Exporter(site, InfluxOutput(site.config.influx), wall_clock_ms)
        try:
            if args.all:
                exporter.rewind()
            done = exporter.catch_up(wall_clock_ms(), at_ledger_clock=True)
        except WriteFailure as failure:
            if failure.refused:
                print(f"levy-monitor: {failure}: check [influx] and the token", file=sys.stderr)
                return EXIT_USAGE
            print(f"levy-monitor: {failure}; the cursor stays: run export again", file=sys.stderr)
            return EXIT_UNAVAILABLE
        finally:
            exporter.close()
    print(f"sent {done.rows} ledger rows and the current liabilities to {exporter.output.target}")
    return 0
