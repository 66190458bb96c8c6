"""The exporter: sends what the ledger committed after the output's cursor, then the
liabilities of the periods those rows fall in and the meters' states, and moves the cursor only
once the output has accepted a batch. It reads the ledger on connections of its own and never
touches the engine, so the daemon runs it in a process of its own (`levy/export/process.py`), off
the ingest path, and an outage of any length costs neither data nor memory: the ledger is the
buffer."""

import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from levy.app.site import Site
from levy.core.calendar import Calendar, Period, parse_period
from levy.core.model import Availability
from levy.core.status import meter_status
from levy.core.units import MS_PER_S
from levy.export.line import Line
from levy.export.output import Output, WriteFailure
from levy.export.points import export_point, interval_point, liability_points, meter_point
from levy.ledger.changes import (
    ExportMark,
    ExportMarks,
    changed_rows,
    last_change,
    pending_rows,
)
from levy.ledger.store import Ledger
from levy.report.figures import build_supply_figures
from levy.report.render import liability_document

log = logging.getLogger("levy.export")

BATCH_ROWS = 5000
"""Rows per write: a few hundred kB of line protocol, gzipped to a few tens."""

ROWS_PER_PASS = 50 * BATCH_ROWS
"""A daemon's pass stops after this many rows to write its liabilities and heartbeat, so a long
catch-up shows its progress; the next pass goes on from the cursor."""

SLOWEST_RETRY_INTERVALS = 30
"""Between attempts while the database refuses (a bad token, a missing bucket), and the longest
wait after repeated failures to reach it, in export intervals (5 minutes at the default 10 s)."""


def backed_off_ms(interval_ms: int, last_wait_ms: int) -> int:
    """The wait after one more failure in a row: one interval, doubling, up to the slowest."""
    return min(SLOWEST_RETRY_INTERVALS * interval_ms, max(interval_ms, 2 * last_wait_ms))


@dataclass(frozen=True)
class Pass:
    rows: int
    """Rows sent in this pass."""
    pending: int
    """Rows committed before it began and still to send after it (0: caught up)."""


@dataclass(frozen=True)
class ExportState:
    """What /healthz shows of the export; replaced whole, so a reader sees one consistent state."""

    failure: WriteFailure | None = None
    failing_since_ms: int | None = None
    next_try_ms: int = 0
    wait_ms: int = 0
    caught_up_ms: int | None = None
    pending: int = 0

    def lag_s(self, now: int, started_ms: int, behind: bool = False) -> float:
        """0 while caught up; else how long since the export last had nothing left to send (or
        since it started, if it never had)."""
        if not behind and self.failure is None and self.pending == 0:
            return 0.0
        return max(0, now - (self.caught_up_ms or started_ms)) / MS_PER_S

    def health(
        self, target: str, started_ms: int, now: int, calendar: Calendar
    ) -> tuple[list[str], dict[str, object]]:
        """(problems for /healthz's degraded list, the export's details)."""
        details: dict[str, object] = {
            "target": target,
            "status": "ok" if self.failure is None else "failing",
            "lag_s": self.lag_s(now, started_ms),
            "pending_rows": self.pending,
        }
        if self.failure is None:
            return [], details
        details["reason"] = self.failure.reason
        details["since"] = calendar.iso(self.failing_since_ms or now)
        return [f"export to {target} failing: {self.failure}"], details


class Exporter:
    def __init__(
        self,
        site: Site,
        output: Output,
        clock: Callable[[], int],
        started_ms: int | None = None,
    ) -> None:
        """`clock` is the wall clock; `started_ms` when the export started (the daemon's
        start), from which it lags until it first catches up."""
        self.site = site
        self.output = output
        self.clock = clock
        self.started_ms = clock() if started_ms is None else started_ms
        self.reported: Mapping[str, Availability] = {}
        """The devices' own availability, where known: the daemon's, given before each pass."""
        self.catching_up = False
        """The daemon is reading the backlog its broker kept for it (given before each pass).
        Its meters' states are then as old as its outage and their readings are on their way: a
        pass samples none, or every meter would show silent, and the silent-meter alert fire,
        for meters that were reporting all along."""
        config = site.config.influx
        assert config is not None, "an exporter needs [influx]"
        self.interval_ms = config.interval_s * MS_PER_S
        self.meter_interval_ms = config.meter_interval_s * MS_PER_S
        self.path: Path = site.config.ledger.path
        self.ledger: Ledger | None = None
        self.marks: ExportMarks | None = None
        self.meter_slot: int | None = None
        self.state = ExportState()

    def open(self) -> None:
        if self.ledger is None:
            self.ledger = Ledger(self.path, writer=False)
            self.marks = ExportMarks(self.path)
            caught_up = self.marks.read(self.output.target).caught_up_ms
            self.state = replace(self.state, caught_up_ms=caught_up)

    def close(self) -> None:
        """After the last pass: its caller (the export's process, `levy-monitor export`) runs
        passes and closes in one thread, so nothing is running when it closes."""
        if self.ledger is not None and self.marks is not None:
            self.ledger.close()
            self.marks.close()
        self.output.close()

    def rewind(self) -> None:
        """Send everything again (a new bucket, a database restored from an old backup)."""
        self.open()
        assert self.marks is not None
        self.marks.save(self.output.target, ExportMark())

    def catch_up(self, now_ms: int, at_ledger_clock: bool, max_rows: int | None = None) -> Pass:
        """Rows after the cursor, then the liabilities of every period they fell in (and of the
        ledger clock's month and quarter), then the meters. Meter states are sampled at `now_ms`
        (none while the daemon is `catching_up`), or at the ledger clock's last millisecond for a
        ledger caught up by hand. Raises WriteFailure.

        A pass sends what was committed when it began and leaves later commits to the next: one
        that chased the writer would run for as long as a backlog drains, sending a meter's
        growing row again with every commit, where the next pass sends it once."""
        self.open()
        assert self.ledger is not None and self.marks is not None
        target = self.output.target
        mark = self.marks.read(target)
        upto = last_change(self.ledger.db)
        sent = 0
        while max_rows is None or sent < max_rows:
            rows = changed_rows(self.ledger.db, mark.cursor, BATCH_ROWS, upto)
            if not rows:
                break
            self.output.write(
                [interval_point(self.site.id, changed.row).to_line_protocol() for changed in rows]
            )
            earliest = min(changed.row.start_ms for changed in rows)
            if mark.liability_from_ms is not None:
                earliest = min(earliest, mark.liability_from_ms)
            mark = replace(mark, cursor=rows[-1].cursor, liability_from_ms=earliest)
            self.marks.save(target, mark)
            sent += len(rows)
        pending = pending_rows(self.ledger.db, mark.cursor, upto)
        last_ms = self.last_accounted_ms()
        self.write(self.liabilities(mark.liability_from_ms, last_ms))
        if pending == 0:
            mark = replace(mark, caught_up_ms=now_ms)
        self.marks.save(target, replace(mark, liability_from_ms=None))
        if at_ledger_clock or not self.catching_up:
            self.write_meters(last_ms if at_ledger_clock else now_ms, at_ledger_clock)
        return Pass(sent, pending)

    def last_accounted_ms(self) -> int:
        """The ledger clock's last accounted millisecond (the clock itself is the first one not
        accounted yet): a ledger swept to November's first instant has finished October and
        begun nothing of November."""
        assert self.ledger is not None
        start = self.ledger.accounting_start_ms or 0
        return max(self.ledger.clock_ms - 1, start)

    def write(self, points: list[Line]) -> None:
        for start in range(0, len(points), BATCH_ROWS):
            self.output.write([p.to_line_protocol() for p in points[start : start + BATCH_ROWS]])

    def liabilities(self, from_ms: int | None, last_ms: int) -> list[Line]:
        """The periods from the one holding `from_ms` (the earliest row sent) to the one holding
        `last_ms`, each as it stands at `last_ms`."""
        assert self.ledger is not None
        calendar = self.site.calendar
        points: list[Line] = []
        first_ms = last_ms if from_ms is None else min(from_ms, last_ms)
        periods = list(self.periods(first_ms, last_ms))
        for figures in build_supply_figures(
            self.ledger, self.site.id, calendar, self.site.rates, periods
        ):
            points += liability_points(figures, liability_document(figures, calendar), last_ms)
        return points

    def periods(self, from_ms: int, to_ms: int) -> Iterator[Period]:
        """Every month from the one holding `from_ms` to the one holding `to_ms`, and the
        quarters they are in."""
        calendar = self.site.calendar
        quarters: list[str] = []
        start = calendar.month_start(from_ms)
        while start <= to_ms:
            month = parse_period(calendar.month_label(start))
            yield month
            if month.quarter not in quarters:
                quarters.append(month.quarter)
            start = calendar.period_bounds(month)[1]
        for quarter in quarters:
            yield parse_period(quarter)

    def write_meters(self, at_ms: int, always: bool) -> None:
        """At most one point per meter per meter_interval_s, at the start of its slot (a slot
        written twice overwrites itself); a ledger caught up by hand is sampled at its clock."""
        assert self.ledger is not None
        slot = at_ms // self.meter_interval_ms
        if not always and slot == self.meter_slot:
            return
        time_ms = at_ms if always else slot * self.meter_interval_ms
        states, open_rows = self.ledger.states()
        meters = self.ledger.meters()
        reported = self.reported
        stale = self.site.rules.stale_after_ms
        points = [
            meter_point(
                self.site.id,
                name,
                meters[name].supply,
                meter_status(state, reported.get(name), time_ms, stale),
                state,
                open_rows.get(name),
                time_ms,
            )
            for name, state in states.items()
            if meters[name].active_in(time_ms, time_ms + 1)
        ]
        self.write(points)
        self.meter_slot = slot

    def tick(self) -> Pass | WriteFailure | None:
        """One scheduled pass, unless the last failure asked to wait (None); failures are
        logged once per change of state; the heartbeat follows a pass that worked."""
        now = self.clock()
        if now < self.state.next_try_ms:
            return None
        return self.attempt(now)

    def attempt(self, now: int) -> Pass | WriteFailure:
        try:
            done = self.catch_up(now, at_ledger_clock=False, max_rows=ROWS_PER_PASS)
            lag = 0.0 if done.pending == 0 else self.state.lag_s(now, self.started_ms, True)
            self.write([export_point(self.site.id, lag, done.pending, now)])
        except WriteFailure as exc:
            failure = exc
        except sqlite3.Error as exc:
            failure = WriteFailure("ledger", f"the ledger cannot be read: {exc}")
        else:
            self.worked(done, now)
            return done
        self.failed(failure, now)
        return failure

    def worked(self, done: Pass, now: int) -> None:
        state = self.state
        if state.failure is not None:
            log.warning(
                "export to %s works again after %d s (%s)",
                self.output.target,
                (now - (state.failing_since_ms or now)) // MS_PER_S,
                state.failure.reason,
            )
        caught_up = now if done.pending == 0 else state.caught_up_ms
        self.state = ExportState(caught_up_ms=caught_up, pending=done.pending)

    def failed(self, failure: WriteFailure, now: int) -> None:
        state = self.state
        if state.failure is None or state.failure.reason != failure.reason:
            log.error("export to %s failed: %s; retrying", self.output.target, failure)
        if failure.refused:
            wait = SLOWEST_RETRY_INTERVALS * self.interval_ms
        else:
            wait = backed_off_ms(self.interval_ms, state.wait_ms)
        self.state = replace(
            state,
            failure=failure,
            failing_since_ms=state.failing_since_ms if state.failure else now,
            next_try_ms=now + wait,
            wait_ms=wait,
        )
