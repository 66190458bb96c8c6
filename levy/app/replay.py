"""`replay`: feed recorded messages through the same path as the daemon, then sweep to --until."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collector.feed import FeedError, FeedLine, read_feed
from collector.router import Router
from levy.app.errors import UsageError
from levy.app.ingest import Message, Tally, ingest
from levy.app.site import Site
from levy.ledger.store import Ledger

WINDOW = 100_000
"""Lines applied as one batch: delivery order inside a batch does not matter (the engine sorts
it), so a feed reordered within this many lines replays to the same ledger."""


@dataclass
class ReplaySummary:
    lines: int = 0
    malformed: list[FeedError] = field(default_factory=list)
    skipped_after_until: int = 0
    tally: Tally = field(default_factory=Tally)
    swept_to_ms: int | None = None


def feed_lines(path: Path, summary: ReplaySummary) -> Iterator[FeedLine]:
    try:
        for item in read_feed(path):
            summary.lines += 1
            if isinstance(item, FeedError):
                summary.malformed.append(item)
            else:
                yield item
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def replay(
    site: Site,
    ledger: Ledger,
    path: Path,
    from_ms: int | None = None,
    until_ms: int | None = None,
    window: int = WINDOW,
) -> ReplaySummary:
    summary = ReplaySummary()
    lines = feed_lines(path, summary)
    first = next(lines, None)
    candidates = [from_ms, site.configured_start_ms(), ledger.accounting_start_ms]
    candidates.append(first.received_ms if first is not None else None)
    start = next((ms for ms in candidates if ms is not None), None)
    engine = site.open_engine(ledger, start)
    router = Router(site.config.meters, site.config.zone)
    last_ms: int | None = None
    pending = itertools.chain([first] if first else [], lines)
    while batch := list(itertools.islice(pending, window)):
        kept = [line for line in batch if until_ms is None or line.received_ms <= until_ms]
        summary.skipped_after_until += len(batch) - len(kept)
        messages = [Message(line.received_ms, line.topic, line.payload) for line in kept]
        if messages:
            last_ms = max(last_ms or 0, max(m.received_ms for m in messages))
            ingest(router, engine, ledger, messages, summary.tally)
    sweep_to = until_ms if until_ms is not None else last_ms
    if sweep_to is not None:
        ingest(router, engine, ledger, [], summary.tally, now_ms=sweep_to)
        summary.swept_to_ms = sweep_to
    return summary
