"""An export pass sends what the ledger had committed when it began: rows a writer commits while
it runs wait for the next pass, which sends each of them once, and the first pass still counts as
caught up (as of when it began). While the daemon reads its backlog, a pass samples no meter."""

from collections.abc import Callable
from datetime import datetime
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
PASS_MS = int(datetime.fromisoformat(MIDDLE).timestamp() * 1000)
"""The wall clock at the first pass: the replayed ledger's clock, so that every meter is active."""


class Recording:
    """An output that keeps the lines it is sent; `meanwhile` runs as the first line is
    written, a writer committing beside the pass."""

    target = "recording"

    def __init__(self, meanwhile: Callable[[], None] | None = None) -> None:
        self.meanwhile = meanwhile
        self.lines: list[str] = []

    def write(self, lines: list[str]) -> None:
        if self.meanwhile is not None:
            self.meanwhile()
            self.meanwhile = None
        self.lines += lines

    def close(self) -> None:
        pass

    def of(self, measurement: str) -> list[str]:
        return [line for line in self.lines if line.startswith(f"{measurement},")]


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


def replayed_to_the_middle(folder: Path) -> tuple[Path, Path, Site]:
    """(configuration, feed, site) of the October scenario replayed to mid-month."""
    config = site_toml(folder, "http://127.0.0.1:9", "levy")
    feed = folder / "october.jsonl"
    write_feed(feed)
    replay(config, feed, MIDDLE)
    return config, feed, Site.from_config(load_config(config))


def test_rows_committed_during_a_pass_wait_for_the_next(tmp_path: Path) -> None:
    config, feed, site = replayed_to_the_middle(tmp_path)
    path = site.config.ledger.path
    before = rows_after(path, BEGINNING)
    output = Recording(lambda: replay(config, feed, OCTOBER_END))
    exporter = Exporter(site, output, lambda: 0)
    try:
        first = exporter.attempt(PASS_MS)
        assert exporter.marks is not None
        cursor = exporter.marks.read(output.target).cursor
        sent_first, caught_up_first = output.of("levy_interval"), exporter.state.caught_up_ms
        output.lines.clear()
        committed_meanwhile = rows_after(path, cursor)
        second = exporter.attempt(PASS_MS + 10_000)
    finally:
        exporter.close()
    assert first == Pass(rows=len(before), pending=0)
    assert {key(line) for line in sent_first} == before
    assert caught_up_first == PASS_MS, "caught up as of when the pass began"
    assert committed_meanwhile, "the replay beside the first pass committed rows"
    assert second == Pass(rows=len(committed_meanwhile), pending=0)
    assert sorted(key(line) for line in output.of("levy_interval")) == sorted(committed_meanwhile)


def test_while_the_daemon_reads_its_backlog_a_pass_samples_no_meter(tmp_path: Path) -> None:
    """The meters' states are then as old as the daemon's outage: sampled, every meter would
    show silent for readings on their way. The rows, liabilities and heartbeat still go, and the
    first pass after the backlog samples every meter."""
    _, _, site = replayed_to_the_middle(tmp_path)
    output = Recording()
    exporter = Exporter(site, output, lambda: 0)
    try:
        exporter.catching_up = True
        catching_up = exporter.attempt(PASS_MS)
        during = list(output.lines)
        output.lines.clear()
        exporter.catching_up = False
        after = exporter.attempt(PASS_MS + 10_000)
    finally:
        exporter.close()
    assert isinstance(catching_up, Pass) and catching_up.rows > 0
    assert not [line for line in during if line.startswith("levy_meter,")]
    assert {line.split(",")[0] for line in during} == {
        "levy_interval",
        "levy_liability",
        "levy_export",
    }
    assert isinstance(after, Pass) and after.rows == 0
    assert len(output.of("levy_meter")) == len(site.config.meters)
