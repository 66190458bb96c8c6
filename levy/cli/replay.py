"""`levy-monitor replay`: recorded messages through the same engine, and a summary that adds up."""

import argparse
import logging
from pathlib import Path

from levy.app.replay import replay
from levy.cli.common import load_site, open_ledger, parse_time

log = logging.getLogger("levy")

HELP = "feed recorded MQTT messages through the engine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--input",
        required=True,
        action="append",
        help="mosquitto_sub -F %%j / %%J lines (.gz ok), or an archive folder; repeatable",
    )
    parser.add_argument(
        "--from", dest="from_", help="accounting start (ISO 8601; naive = site zone)"
    )
    parser.add_argument("--until", help="ignore later lines and sweep to this time")


def run(args: argparse.Namespace) -> int:
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
