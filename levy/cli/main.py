"""The `levy-monitor` command line: one module per command (`HELP`, `add_arguments`, `run`), the
exit statuses and the one place a failure becomes a plain message. Exit status: 0 success, 2 the
user's mistake (one plain message, no traceback), 3 a database that could not be reached (try
again), 4 a ledger that does not verify, 1 an internal error."""

import argparse
import logging
import os
import sqlite3
import sys
from pathlib import Path

from levy.app.errors import UsageError
from levy.app.logs import LOG_FORMAT
from levy.cli import check, close, export, invoice, keygen, replay, report, run, verify
from levy.cli.common import EXIT_USAGE, load_site, unusable_ledger
from levy.config import ConfigError, load_config
from levy.core.engine import FrozenPeriodError
from levy.ledger.schema import LedgerVersionError
from levy.ledger.store import LedgerError
from levy.tools.simulate import cli as simulate

log = logging.getLogger("levy")

FILE_MODE_MASK = 0o027
"""Ledger, archive and their companions are created 0640 / 0750: billing evidence is not for
every account on the host."""

USER_ERRORS = (UsageError, ConfigError, LedgerError, LedgerVersionError, FrozenPeriodError)

COMMANDS = {
    "run": run,
    "check-config": check,
    "replay": replay,
    "close": close,
    "report": report,
    "export": export,
    "invoice": invoice,
    "verify": verify,
    "keygen": keygen,
}

SEVERAL_SITES = {"report"}
"""Commands that take `-c` once per site."""


def cmd_simulate(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config)) if args.config is not None else None
    return simulate.run(args, config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="levy-monitor", description="Kazakhstan mining electricity levy monitor"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default="site.toml", help="site TOML (default site.toml)")
    several = argparse.ArgumentParser(add_help=False)
    several.add_argument(
        "-c",
        "--config",
        action="append",
        dest="configs",
        metavar="CONFIG",
        help="site TOML (default site.toml); repeated, each site from its own ledger and a "
        "consolidated total",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        parent = several if name in SEVERAL_SITES else common
        sub = commands.add_parser(
            name, parents=[parent], help=command.HELP, description=command.HELP
        )
        command.add_arguments(sub)
        sub.set_defaults(func=command.run)
    text = "publish a synthetic fleet, faults included, or write it as a recorded feed"
    sub = commands.add_parser("simulate", help=text, description=text)
    sub.add_argument("-c", "--config", help="take the fleet and the broker from this site TOML")
    sub.set_defaults(func=cmd_simulate)
    simulate.add_arguments(sub)
    return parser


def ledger_named(args: argparse.Namespace) -> str:
    """The ledger a failing command was using, for the message."""
    try:
        return f"ledger {load_site(args).config.ledger.path}"
    except (ConfigError, OSError):
        return "the site's ledger"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(FILE_MODE_MASK)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=LOG_FORMAT)
    try:
        return args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"levy-monitor: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except USER_ERRORS as exc:
        print(f"levy-monitor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except sqlite3.DatabaseError as exc:
        print(f"levy-monitor: {unusable_ledger(exc, ledger_named(args))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"levy-monitor: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        log.exception("internal error")
        return 1
