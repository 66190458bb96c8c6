"""The `levy-monitor` command line. Exit status: 0 success, 2 the user's mistake (one plain
message, no traceback), 3 a database that could not be reached (try again), 1 an internal
error."""

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from collector.simulate import cli as simulate
from levy.app.closing import close_period
from levy.app.daemon import run_daemon
from levy.app.errors import UsageError
from levy.app.record import apply_rates, check_meters, check_record
from levy.app.replay import replay
from levy.app.site import Site
from levy.app.worker import wall_clock_ms
from levy.config import ConfigError, load_config
from levy.core.calendar import parse_period
from levy.core.engine import FrozenPeriodError
from levy.core.localtime import unique_local_ms
from levy.core.units import datetime_to_ms
from levy.export.exporter import Exporter
from levy.export.influx import InfluxOutput
from levy.export.output import WriteFailure
from levy.ledger.schema import LedgerVersionError
from levy.ledger.store import Ledger, LedgerBusy, LedgerError
from levy.report.figures import build_figures
from levy.report.render import render_csv, render_json, render_table, to_document

log = logging.getLogger("levy")

FILE_MODE_MASK = 0o027
"""Ledger, archive and their companions are created 0640 / 0750: billing evidence is not for
every account on the host."""

EXIT_UNAVAILABLE = 3
"""A database that could not be reached or did not answer: try again later."""
USER_ERRORS = (UsageError, ConfigError, LedgerError, LedgerVersionError, FrozenPeriodError)


def load_site(args: argparse.Namespace) -> Site:
    return Site.from_config(load_config(Path(args.config)))


def open_ledger(site: Site, must_exist: bool, writer: bool = True) -> Ledger:
    path = site.config.ledger.path
    if must_exist and not path.exists():
        raise UsageError(f"no ledger at {path}: nothing has been recorded for this site yet")
    return Ledger(path, writer)


def parse_time(site: Site, text: str | None, option: str) -> int | None:
    """ISO 8601; a naive time is read in the site zone, and one the zone repeats or skips (a
    clock change) is refused, naming both candidates: there is no receive time to choose by."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time") from exc
    try:
        if moment.tzinfo is None:
            return unique_local_ms(moment, site.config.zone)
        return datetime_to_ms(moment)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OverflowError:
        raise UsageError(f"{option} {text!r} is out of range") from None


def cmd_check_config(args: argparse.Namespace) -> int:
    site = load_site(args)
    if site.config.ledger.path.exists():
        with Ledger(site.config.ledger.path, writer=False) as ledger:
            check_record(site, ledger)
            check_meters(ledger, {meter.id for meter in site.config.meters})
    print(f"{args.config}: site {site.id}, {len(site.config.meters)} meters, configuration valid")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    site = load_site(args)
    from_ms = parse_time(site, args.from_, "--from")
    until_ms = parse_time(site, args.until, "--until")
    with open_ledger(site, must_exist=False) as ledger:
        summary = replay(site, ledger, [Path(p) for p in args.input], from_ms, until_ms)
    for path, error in summary.malformed[:20]:
        log.warning("%s line %d: %s", path, error.line_no, error.problem)
    tally = summary.tally
    print(f"lines read        {summary.lines}")
    print(f"malformed lines   {len(summary.malformed)}")
    if summary.skipped_after_until:
        print(f"after --until     {summary.skipped_after_until}")
    print(f"readings accepted {tally.accepted}")
    for reason, count in sorted(tally.rejected.items()):
        print(f"rejected          {count} {reason}")
    for (meter, reason), count in tally.rejecting_most(5):
        print(f"rejecting most    {meter}: {count} {reason}")
    if summary.swept_to_ms is not None:
        print(f"accounted to      {site.calendar.iso(summary.swept_to_ms)}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config)) if args.config is not None else None
    return simulate.run(args, config)


def cmd_run(args: argparse.Namespace) -> int:
    return run_daemon(load_site(args))


def cmd_close(args: argparse.Namespace) -> int:
    site = load_site(args)
    with open_ledger(site, must_exist=True) as ledger:
        engine = site.open_engine(ledger, None)
        closed = close_period(site, ledger, engine, args.period, ledger.clock_ms)
    if closed:
        print(f"closed {', '.join(closed)}")
    else:
        print(f"{args.period} was already closed")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    site = load_site(args)
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    with open_ledger(site, must_exist=True, writer=False) as ledger:
        if check_record(site, ledger) is not None:
            apply_pending_rates(site)
        figures = build_figures(ledger, site.id, site.calendar, site.rates, period)
    document = to_document(figures, site.calendar)
    render = {"json": render_json, "csv": render_csv, "table": render_table}[args.format]
    sys.stdout.write(render(document))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
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
                return 2
            print(f"levy-monitor: {failure}; the cursor stays: run export again", file=sys.stderr)
            return EXIT_UNAVAILABLE
        finally:
            exporter.close()
    print(f"sent {done.rows} ledger rows and the current liabilities to {exporter.output.target}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="levy-monitor", description="Kazakhstan mining electricity levy monitor"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default="site.toml", help="site TOML (default site.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(func=func)
        return sub

    add("run", cmd_run, "the daemon: MQTT in, ledger, scheduled sweep and close")
    add("check-config", cmd_check_config, "validate the configuration and list every error")
    sub = add("replay", cmd_replay, "feed recorded MQTT messages through the engine")
    sub.add_argument(
        "-i",
        "--input",
        required=True,
        action="append",
        help="mosquitto_sub -F %%j / %%J lines (.gz ok), or an archive folder; repeatable",
    )
    sub.add_argument("--from", dest="from_", help="accounting start (ISO 8601; naive = site zone)")
    sub.add_argument("--until", help="ignore later lines and sweep to this time")
    text = "publish a synthetic fleet, faults included, or write it as a recorded feed"
    sub = commands.add_parser("simulate", help=text, description=text)
    sub.add_argument("-c", "--config", help="take the fleet and the broker from this site TOML")
    sub.set_defaults(func=cmd_simulate)
    simulate.add_arguments(sub)
    sub = add("close", cmd_close, "close (freeze) a month once the ledger clock allows it")
    sub.add_argument("--period", required=True, help="YYYY-MM (or YYYY-Qn: its three months)")
    sub = add("report", cmd_report, "the filing figures of a month or a quarter")
    sub.add_argument("--period", required=True, help="YYYY-MM or YYYY-Qn")
    sub.add_argument("--format", choices=["table", "json", "csv"], default="table")
    sub = add("export", cmd_export, "catch the ledger up into InfluxDB ([influx])")
    sub.add_argument(
        "--all", action="store_true", help="send every row again (a new or restored bucket)"
    )
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
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"levy-monitor: {problem}", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        print(f"levy-monitor: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        print(
            f"levy-monitor: the ledger cannot be used: {exc} ({ledger_named(args)})",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"levy-monitor: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("internal error")
        return 1
