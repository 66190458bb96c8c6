"""Replay-level properties over random feeds around a month boundary: replaying twice equals
replaying once, shuffled or duplicated lines change nothing, closing then reporting equals
reporting, and batches committed together store what committing each would."""

import contextlib
import io
import json
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from unittest.mock import patch
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.feed import format_feed_line
from levy.app.replay import replay
from levy.app.routing_balance import Balance
from levy.cli import main
from levy.cli.common import site_at
from levy.core.units import datetime_to_ms
from levy.ledger.store import Ledger

ALMATY = ZoneInfo("Asia/Almaty")
START = datetime(2026, 10, 31, 21, 0, tzinfo=ALMATY)
UNTIL = "2026-11-01T03:00:00+05:00"
SITE = """
[site]
id = "prop"
[ledger]
accounting_start = 2026-10-31T21:00:00+05:00
""" + "".join(
    f'[[meters]]\nid = "rig-{n}"\ntopic = "p/rig-{n}"\nrated_kw = "3.6"\n' for n in range(3)
)


SHELLY_SITE = """
[site]
id = "prop"
[ledger]
accounting_start = 2026-10-31T21:00:00+05:00
""" + "".join(
    f'[[meters]]\nid = "s-{n}"\ntopic = "p/shelly-{n}"\nformat = "shelly"\nrated_kw = "3.6"\n'
    for n in range(2)
)


@st.composite
def shelly_feeds(draw) -> list[str]:
    """Two Shellies' statuses and partial NotifyStatus frames (merged onto the last status),
    some broken: what a router keeps decides what a frame means."""
    lines, moment, registers = [], START, [Decimal(1000), Decimal(5000)]
    for _ in range(draw(st.integers(0, 40))):
        moment += timedelta(seconds=draw(st.sampled_from([1, 10, 60, 300])))
        device = draw(st.integers(0, 1))
        registers[device] += Decimal(draw(st.integers(0, 2000))) / 10
        power, total = draw(st.integers(0, 4000)), registers[device]
        change = draw(
            st.sampled_from(
                [f'{{"apower":{power}}}', f'{{"aenergy":{{"total":{total}}}}}', '{"apower":null}']
            )
        )
        kind = draw(st.sampled_from(["status", "status", "frame", "broken"]))
        topic = f"p/shelly-{device}/" + ("events/rpc" if kind == "frame" else "status/switch:0")
        payload = {
            "status": f'{{"id":0,"apower":{power},"aenergy":{{"total":{total}}}}}',
            "frame": f'{{"method":"NotifyStatus","params":{{"ts":{moment.timestamp()},'
            f'"switch:0":{change}}}}}',
            "broken": "{broken",
        }[kind]
        lines.append(format_feed_line(datetime_to_ms(moment), topic, payload.encode()))
    return lines


@st.composite
def feeds(draw) -> list[str]:
    lines = []
    for n in range(draw(st.integers(1, 3))):
        moment, register = START, Decimal(draw(st.integers(0, 10**6))) / 1000
        for _ in range(draw(st.integers(0, 30))):
            moment += timedelta(seconds=draw(st.sampled_from([5, 60, 300, 899, 901, 1800])))
            event = draw(
                st.sampled_from(["ok", "ok", "ok", "fault", "reset", "spike", "garbage", "ghost"])
            )
            register = {
                "reset": Decimal(0),
                "spike": register + 50,
                "ok": register + Decimal(draw(st.integers(0, 1000))) / 1000,
            }.get(event, register)
            stamp = moment.isoformat()
            payload = {
                "fault": f'{{"fault": true, "ts": "{stamp}"}}',
                "garbage": '{"energy_kwh": NaN}',
            }.get(event, f'{{"ts": "{stamp}", "energy_kwh": {register}}}')
            topic = "p/ghost" if event == "ghost" else f"p/rig-{n}"
            lines.append(format_feed_line(datetime_to_ms(moment), topic, payload.encode()))
    return lines


def replayed(folder: str, lines_per_run: list[list[str]]) -> Path:
    """Replay each list of lines in turn into one ledger; returns the site's configuration."""
    config = Path(folder) / "site.toml"
    config.write_text(SITE)
    for run, lines in enumerate(lines_per_run):
        feed = Path(folder) / f"feed-{run}.jsonl"
        # an empty feed is refused: each run starts with a line on no meter's topic, so that
        # the feeds without readings (every meter deemed) are still replayed
        ghost = format_feed_line(datetime_to_ms(START), "p/ghost", b"{}")
        feed.write_text("".join(line + "\n" for line in [ghost, *lines]))
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["replay", "-c", str(config), "-i", str(feed), "--until", UNTIL]) == 0
    return config


def reports(lines_per_run: list[list[str]], close: bool = False) -> tuple[dict, dict]:
    """Replay each list of lines in turn into one ledger; report October and November."""
    with TemporaryDirectory() as folder:
        config = replayed(folder, lines_per_run)
        if close:
            assert main(["close", "-c", str(config), "--period", "2026-10"]) == 0
        return tuple(report(config, period) for period in ("2026-10", "2026-11"))


def ledger_dump(lines_per_run: list[list[str]]) -> dict[str, list[tuple]]:
    """Every row of every table of the ledger, the rejection log included."""
    with TemporaryDirectory() as folder:
        replayed(folder, lines_per_run)
        db = sqlite3.connect(Path(folder) / "var" / "prop.sqlite")
        try:
            tables = [
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            return {
                table: sorted(db.execute(f"SELECT * FROM {table}"), key=repr) for table in tables
            }
        finally:
            db.close()


def report(config: Path, period: str) -> dict:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["report", "-c", str(config), "--period", period, "--format", "json"]) == 0
    return json.loads(buffer.getvalue())


@settings(max_examples=25, deadline=None)
@given(feeds())
def test_replaying_twice_equals_replaying_once(lines):
    assert reports([lines, lines]) == reports([lines])


@settings(max_examples=25, deadline=None)
@given(feeds())
def test_replaying_twice_leaves_the_whole_ledger_as_once(lines):
    once = ledger_dump([lines])
    assert ledger_dump([lines, lines]) == once
    assert ledger_dump([lines, lines, lines]) == once


@settings(max_examples=25, deadline=None)
@given(feeds(), st.randoms(use_true_random=False))
def test_shuffled_and_duplicated_lines_change_nothing(lines, rnd):
    mixed = lines + rnd.sample(lines, k=len(lines) // 2)
    rnd.shuffle(mixed)
    assert reports([mixed]) == reports([lines])


@settings(max_examples=25, deadline=None)
@given(feeds())
def test_closing_then_reporting_equals_reporting(lines):
    october, november = reports([lines])
    closed_october, closed_november = reports([lines], close=True)
    # the close adds its record to the evidence, and its commit moves the chain head
    closed = closed_october["evidence"]
    assert closed["closed"]["period_digest"] and closed["closed"]["chain_head"]
    assert closed["chain_head"] == closed_november["evidence"]["chain_head"]
    assert closed_october == {**october, "closed": True, "provisional": [], "evidence": closed}
    assert closed_november == {**november, "evidence": closed_november["evidence"]}


def replayed_rows(
    lines: list[str], window: int, commit_lines: int, fork_above: int = 1 << 40, site: str = SITE
) -> tuple[list, ...]:
    """The ledger's rows, meters, rejections, November report and the replay's summary after a
    replay of `lines` in batches of `window` lines, committed `commit_lines` lines at a time,
    read in a process of their own from `fork_above` bytes; what depends on the number of
    commits (change numbers, the chain, seals) left out."""
    with TemporaryDirectory() as folder:
        config = Path(folder) / "site.toml"
        config.write_text(site)
        feed = Path(folder) / "feed.jsonl"
        ghost = format_feed_line(datetime_to_ms(START), "p/ghost", b"{}")
        feed.write_text("".join(line + "\n" for line in [ghost, *lines]))
        site = site_at(config)
        until = datetime_to_ms(datetime.fromisoformat(UNTIL))
        with Ledger(site.config.ledger.path, True) as ledger:
            summary = replay(site, ledger, [feed], None, until, window, commit_lines, fork_above)
            rows = ledger.db.execute(
                "SELECT m.name, i.start_ms, i.end_ms, i.kind, i.energy_mj, i.supply, i.rated_w,"
                " i.rate, i.role FROM intervals i JOIN meters m ON m.id = i.meter_id"
                " ORDER BY m.name, i.start_ms"
            ).fetchall()
            meters = ledger.db.execute(
                "SELECT name, accrued_ms, baseline_ms, baseline_value, faults, open_row_ms"
                " FROM meters ORDER BY name"
            ).fetchall()
            rejections = ledger.db.execute(
                "SELECT received_ms, topic, meter, reason, detail, payload, copy_no"
                " FROM rejections ORDER BY received_ms, topic, meter, reason, copy_no"
            ).fetchall()
        figures = report(config, "2026-11")
        del figures["evidence"]
        said = (summary.terms(), summary.tally.messages_rejected, summary.swept_to_ms)
        return rows, meters, rejections, figures, said


@settings(max_examples=25, deadline=None)
@given(feeds(), st.integers(1, 20))
def test_batches_committed_together_store_what_each_committed_would(lines, window):
    assert replayed_rows(lines, window, 10**9) == replayed_rows(lines, window, 1)


@settings(max_examples=15, deadline=None)
@given(feeds(), st.integers(1, 20))
def test_lines_read_in_a_process_of_their_own_replay_the_same(lines, window):
    """With every batch's routing shared, however small (see `routing_balance`)."""
    with patch.object(Balance, "LEAST_LINES", 1):
        apart = replayed_rows(lines, window, 7, fork_above=0)
    assert apart == replayed_rows(lines, window, 7)


@settings(max_examples=15, deadline=None)
@given(shelly_feeds(), st.integers(1, 20))
def test_a_shelly_feed_read_in_a_process_of_its_own_replays_the_same(lines, window):
    """Statuses routed by the engine's process are observed by the reading process's router,
    which routes the frames merged onto them; a batch whose part holds a frame is not shared."""
    with patch.object(Balance, "LEAST_LINES", 1):
        apart = replayed_rows(lines, window, 7, fork_above=0, site=SHELLY_SITE)
    assert apart == replayed_rows(lines, window, 7, site=SHELLY_SITE)
