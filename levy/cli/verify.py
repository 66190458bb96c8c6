"""`levy-monitor verify`: the ledger checked against its own evidence, and with `--archive`
against a replay of the raw archive. Read-only: it works beside a running daemon, on one read
snapshot of the ledger. Each check that passes is one line on stdout, then `verified: ...`; the
first that fails is named on stdout and on stderr, and the exit status is 4."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from levy.app.errors import UsageError
from levy.app.rebuild import compare_with_replay
from levy.app.site import Site
from levy.cli.common import EXIT_TAMPERED, load_site, open_ledger
from levy.core.calendar import parse_period
from levy.ledger.signing import KeyFileError, load_public_key
from levy.ledger.store import Ledger
from levy.ledger.verify import Passed, Scope, Verifier, VerifyFailure

HELP = "check the ledger's chain, seals, totals and close records, and replay its archive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", help="YYYY-MM or YYYY-Qn: check only its rows and closes")
    parser.add_argument(
        "--archive",
        type=Path,
        help="the daemon's archive folder (or a recorded feed): replay it into a scratch "
        "ledger and compare the figures",
    )
    parser.add_argument(
        "--public-key", type=Path, help="the key every close must be signed by (raw, hex or PEM)"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")


def scope_of(site: Site, label: str | None) -> Scope:
    if label is None:
        return Scope()
    try:
        start, end = site.calendar.period_bounds(parse_period(label))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Scope(label, start, end)


def run(args: argparse.Namespace) -> int:
    site = load_site(args)
    scope = scope_of(site, args.period)
    public_key = None
    if args.public_key is not None:
        try:
            public_key = load_public_key(args.public_key)
        except KeyFileError as exc:
            raise UsageError(f"--public-key: {exc}") from None
    passed: list[Passed] = []
    failure: VerifyFailure | None = None
    with open_ledger(site, must_exist=True, writer=False) as ledger:
        try:
            passed += checked(ledger, site, scope, public_key)
            if args.archive is not None:
                passed.append(compare_with_replay(site, ledger, args.archive, args.period))
        except VerifyFailure as failed:
            failure = failed
        head = None if failure is not None and failure.check == "chain" else ledger.chain_head()
    summary = verdict(site, scope, head.number if head else None, head.hash if head else None)
    if args.format == "json":
        print(json.dumps(document(site, scope, passed, failure, summary), indent=2))
    else:
        for check in passed:
            print(f"{check.check}: {check.detail}")
    if failure is None:
        if args.format == "text":
            print(f"verified: {summary}")
        return 0
    line = f"NOT VERIFIED: {failure.check}: {failure.message}"
    if args.format == "text":
        print(line)
    print(f"levy-monitor: {line}", file=sys.stderr)
    return EXIT_TAMPERED


def checked(ledger: Ledger, site: Site, scope: Scope, public_key: str | None) -> list[Passed]:
    """The ledger's own checks, all on one read snapshot (a daemon may commit meanwhile)."""
    ledger.db.execute("BEGIN")
    try:
        return list(Verifier(ledger, site.calendar, scope, public_key).checks())
    finally:
        ledger.db.execute("ROLLBACK")


def verdict(site: Site, scope: Scope, block: int | None, digest: str | None) -> str:
    what = f"ledger {site.config.ledger.path}"
    if scope.label is not None:
        what += f", period {scope.label}"
    head = "no chain yet" if block is None else f"chain head block {block} {digest}"
    return f"{what}, {head}"


def document(
    site: Site,
    scope: Scope,
    passed: list[Passed],
    failure: VerifyFailure | None,
    summary: str,
) -> dict[str, Any]:
    return {
        "verified": failure is None,
        "ledger": str(site.config.ledger.path),
        "period": scope.label,
        "checks": [{"check": p.check, "passed": True, "detail": p.detail} for p in passed],
        "failure": None
        if failure is None
        else {"check": failure.check, "message": failure.message},
        "summary": summary,
    }
