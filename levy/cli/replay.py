"""`levy-monitor replay`: recorded messages through the same engine, and a summary that adds up.

A replay that fails leaves no trace where there was no ledger: its input is checked before the
ledger is opened (see `check_inputs`), and should it fail all the same (an accounting start before
the first rate, an interrupted run), what this run created is removed, under the ledger's lock,
so that a later `report` still says nothing has been recorded yet. An existing ledger is not
opened before the input has passed those checks."""

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from levy.app.heap import settled_heap
from levy.app.replay import ReplaySummary, check_inputs, replay
from levy.app.site import Site
from levy.cli.common import load_site, open_ledger, parse_time
from levy.ledger.store import COMPANIONS, Ledger

log = logging.getLogger("levy")

HELP = "feed recorded MQTT messages through the engine"

MALFORMED_LOGGED = 20
"""Malformed lines logged with their number; the rest are counted."""
REJECTING_MOST = 5
LABEL = 18
"""Width of the summary's first column."""


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
    inputs = [Path(p) for p in args.input]
    check_inputs(inputs, from_ms, until_ms, site.calendar.iso)
    with settled_heap(), ledger_or_nothing(site) as ledger:
        summary = replay(site, ledger, inputs, from_ms, until_ms)
    for path, error in summary.malformed[:MALFORMED_LOGGED]:
        log.warning("%s line %d: %s", path, error.line_no, error.problem)
    print("\n".join(summary_lines(site, summary)))
    return 0


def summary_lines(site: Site, summary: ReplaySummary) -> Iterator[str]:
    """Lines read, then each term of their sum by reason or kind, the meters rejecting most and
    how far every meter is accounted."""
    terms = " + ".join(f"{name} {count}" for name, count in summary.terms())
    yield f"{'lines read':<{LABEL}}{summary.lines} = {terms}"
    for reason, count in sorted(summary.tally.messages_rejected.items()):
        yield f"{'rejected':<{LABEL}}{count} {reason}"
    for kind, count in sorted(summary.ignored().items()):
        yield f"{'ignored':<{LABEL}}{count} {kind}"
    if len(summary.malformed) > MALFORMED_LOGGED:
        logged = f"the first {MALFORMED_LOGGED} logged with their line numbers"
        yield f"{'malformed':<{LABEL}}{len(summary.malformed)} ({logged})"
    for (meter, reason), count in summary.tally.rejecting_most(REJECTING_MOST):
        yield f"{'rejecting most':<{LABEL}}{meter}: {count} {reason}"
    if summary.swept_to_ms is not None:
        yield f"{'accounted to':<{LABEL}}{site.calendar.iso(summary.swept_to_ms)}"
    else:
        yield f"{'accounted to':<{LABEL}}no sweep in the archive's journal"


@contextmanager
def ledger_or_nothing(site: Site) -> Iterator[Ledger]:
    """The site's ledger, opened as its writer (created where there is none). If the block fails,
    a ledger this run created is removed with its companions, and so are the folders it made."""
    path = site.config.ledger.path
    folders = [folder for folder in [path.parent, *path.parent.parents] if not folder.exists()]
    beside = [path, *(path.with_name(path.name + end) for end in COMPANIONS)]
    new_files = [] if path.exists() else [file for file in beside if not file.exists()]
    try:
        with open_ledger(site, must_exist=False) as ledger:
            if ledger.meta("site_id") is not None:
                new_files = []  # another writer made it meanwhile: it holds their accounts
            try:
                yield ledger
            except BaseException:
                ledger.db.close()  # the lock is still held: nobody else opens what goes
                for file in new_files:
                    file.unlink(missing_ok=True)
                raise
    except BaseException:
        for folder in folders:  # the deepest first; one that is not empty stays
            with suppress(OSError):
                folder.rmdir()
        raise
