"""An export pass sends what the ledger had committed when it began: rows a writer commits while
it runs wait for the next pass, which sends each of them once, and the first pass still counts as
caught up (as of when it began)."""

from collections.abc import Callable
from pathlib import Path

from levy.app.site import Site
from levy.config import load_config
from levy.export.exporter import Exporter, Pass
from levy.export.points import interval_point
from levy.ledger.changes import BEGINNING, Cursor, changed_rows
from levy.ledger.store import Ledger
from tests.app.scenario import write_feed
from tests.export.sites import OCTOBER_END, site_toml
from tests.live.harness import levy

MIDDLE = "2026-10-15T00:00:00+05:00"
PASS_MS = 1_000


class Committing:
    """An output that keeps the interval lines it is sent; `meanwhile` runs as the first line
    is written, a writer committing beside the pass."""

    target = "committing"

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        self.meanwhile: Callable[[], None] | None = meanwhile
        self.intervals: list[str] = []

    def write(self, lines: list[str]) -> None:
        if self.meanwhile is not None:
            self.meanwhile()
            self.meanwhile = None
        self.intervals += [line for line in lines if line.startswith("levy_interval,")]

    def close(self) -> None:
        pass


def replay(config: Path, feed: Path, until: str) -> None:
    done = levy("replay", "-c", str(config), "-i", str(feed), "--until", until)
    assert done.returncode == 0, done.stderr


def rows_after(path: Path, cursor: Cursor) -> set[str]:
    """The line-protocol key (measurement and tags, and time) of each row after `cursor`."""
    with Ledger(path, writer=False) as ledger:
        return {
            key(interval_point("scenario-1", changed.row).to_line_protocol())
            for changed in changed_rows(ledger.db, cursor, 10**6)
        }


def key(line: str) -> str:
    series, _, rest = line.partition(" ")
    return f"{series} {rest.rpartition(' ')[2]}"


def test_rows_committed_during_a_pass_wait_for_the_next(tmp_path: Path) -> None:
    config = site_toml(tmp_path, "http://127.0.0.1:9", "levy")
    feed = tmp_path / "october.jsonl"
    write_feed(feed)
    replay(config, feed, MIDDLE)
    site = Site.from_config(load_config(config))
    path = site.config.ledger.path
    before = rows_after(path, BEGINNING)
    output = Committing(lambda: replay(config, feed, OCTOBER_END))
    exporter = Exporter(site, output, lambda: 0)
    try:
        first = exporter.attempt(PASS_MS)
        assert exporter.marks is not None
        cursor = exporter.marks.read(output.target).cursor
        sent_first, caught_up_first = list(output.intervals), exporter.state.caught_up_ms
        output.intervals.clear()
        committed_meanwhile = rows_after(path, cursor)
        second = exporter.attempt(PASS_MS + 10_000)
    finally:
        exporter.close()
    assert first == Pass(rows=len(before), pending=0)
    assert {key(line) for line in sent_first} == before
    assert caught_up_first == PASS_MS, "caught up as of when the pass began"
    assert committed_meanwhile, "the replay beside the first pass committed rows"
    assert second == Pass(rows=len(committed_meanwhile), pending=0)
    assert sorted(key(line) for line in output.intervals) == sorted(committed_meanwhile)
