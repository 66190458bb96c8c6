"""The one engine worker: takes messages and scheduler ticks off the inbox, journals each batch in
the raw archive, applies and commits it with the archive position, then acknowledges it."""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from collector.archive import RawArchive
from collector.message import Message
from collector.mqtt import LinkEvent, LinkKind, Received
from collector.router import Router
from levy.app.announce import status_lines
from levy.app.closing import closable, close_month
from levy.app.health import DEGRADED, TOP_REJECTING, Metrics
from levy.app.heap import give_back
from levy.app.inbox import Inbox
from levy.app.ingest import Tally, ingest
from levy.app.journal import BATCH, BLIND, CLOSE, SEEING, SWEEP, encode_position, link_changes
from levy.app.site import Site
from levy.core.calendar import parse_period
from levy.core.engine import Engine
from levy.core.model import Availability, Supply
from levy.core.status import MeterStatus, meter_status
from levy.core.units import MJ_PER_KWH
from levy.ledger.store import Ledger
from levy.report.figures import build_supply_figures

log = logging.getLogger("levy.worker")


class TickKind(StrEnum):
    SWEEP = "sweep"
    """Deem what is stale, show the gauges, and close the previous month when the rules allow."""
    ROTATE = "rotate"
    """Compress the archive's closed hours (and delete the expired ones)."""


@dataclass(frozen=True, slots=True)
class Tick:
    """A scheduler's request, queued behind the messages received before it; a sweep behind
    those the broker held when it was due (see `as_tick`)."""

    kind: TickKind
    now_ms: int


class Source(Protocol):
    """The MQTT source as the worker sees it: `collector.mqtt_process.MqttProcess`, the
    `collector.mqtt.MqttSource` in a process of its own."""

    @property
    def connected(self) -> bool: ...
    @property
    def connected_since_ms(self) -> int | None: ...

    def ack_all(self, messages: list[Received]) -> None:
        """Acknowledge what was committed; messages of an earlier session are not."""
        ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def as_tick(event: Tick | LinkEvent | None) -> Tick | None:
    """A sweep asked for at `at_ms` is due once the broker's messages of then are read."""
    if isinstance(event, LinkEvent):
        return Tick(TickKind.SWEEP, event.at_ms) if event.kind is LinkKind.CAUGHT_UP else None
    return event


@dataclass
class Worker:
    site: Site
    ledger: Ledger
    engine: Engine
    router: Router
    archive: RawArchive
    source: Source
    inbox: "Inbox[Tick | LinkEvent]"
    metrics: Metrics
    stopping: threading.Event
    clock: Callable[[], int] = wall_clock_ms
    availability: dict[str, Availability] = field(default_factory=dict)
    since_start: Tally = field(default_factory=Tally)
    """Rejections per meter since the daemon started, for the meters rejecting most."""
    batch_started_ms: int | None = None
    drain_refused: bool = False
    known: dict[str, MeterStatus] | None = None
    """Each meter's status at the last look, for the log lines of what changed since."""
    carry: list[Received] = field(default_factory=list)
    """Messages of a list taken from the inbox that did not fit the last batch: the next
    batch's first."""
    counts: dict[str, int] = field(default_factory=dict)
    """The meters by status at the last look (each sweep, each availability report), replaced
    whole: what /healthz shows."""

    def run(self) -> None:
        self.show_meters(self.clock())
        while not self.stopping.is_set():
            self.step(self.collect(wait_s=0.2))
        for _ in range(self.inbox.qsize() + len(self.carry)):  # what waits now, at the most
            if not (self.carry or self.inbox.qsize()):
                break
            self.step(self.collect(wait_s=0))

    def collect(self, wait_s: float) -> tuple[list[Received], Tick | LinkEvent | None]:
        """A batch: up to batch_max_messages, or what arrives within batch_max_ms of the first
        message; a tick or a change of the link ends it."""
        settings = self.site.config.daemon
        room = settings.batch_max_messages
        batch, self.carry = self.carry[:room], self.carry[room:]
        if batch:
            self.batch_started_ms = batch[0].received_ms
        deadline = time.monotonic() + (settings.batch_max_ms / 1000 if batch else wait_s)
        while len(batch) < room:
            try:
                item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if isinstance(item, Tick | LinkEvent):
                return batch, item
            if not batch:
                self.batch_started_ms = item[0].received_ms
                deadline = time.monotonic() + settings.batch_max_ms / 1000
            take = room - len(batch)
            batch += item[:take]
            self.carry = item[take:]
        return batch, None

    def step(self, work: tuple[list[Received], Tick | LinkEvent | None]) -> None:
        received, event = work
        tick = as_tick(event)
        sweep_ms = None
        if tick is not None and tick.kind is TickKind.SWEEP and self.may_sweep(tick.now_ms):
            sweep_ms = tick.now_ms
        if received or sweep_ms is not None:
            self.commit(received, sweep_ms)
        if isinstance(event, LinkEvent):
            self.follow_link(event)
        if tick is not None and tick.kind is TickKind.SWEEP:
            self.show_liabilities(tick.now_ms)
            self.show_meters(tick.now_ms)
            give_back()
            if sweep_ms is not None:
                self.close_previous_month(tick.now_ms)
        if tick is not None and tick.kind is TickKind.ROTATE:
            self.archive.rotate_in_background(tick.now_ms)
        self.observe()

    def may_sweep(self, now_ms: int) -> bool:
        """Rule 6 live: never while blind (down, disconnected, or still reading the backlog the
        broker kept for us, however long that takes). A broker that refused the drain marker
        leaves only the old guess: stale_after_s after connecting."""
        since = self.source.connected_since_ms
        if since is None or self.engine.blindness.blind:
            return False
        return not self.drain_refused or now_ms - since >= self.site.rules.stale_after_ms

    def go_blind(self, since_ms: int, at_ms: int) -> None:
        """Journal and commit that the meters cannot be heard from `since_ms`."""
        self.journal_link(BLIND, at_ms, str(since_ms).encode())

    def follow_link(self, event: LinkEvent) -> None:
        if event.kind is LinkKind.DISCONNECTED:
            self.go_blind(event.at_ms, event.at_ms)
        elif event.kind in (LinkKind.DRAINED, LinkKind.DRAIN_REFUSED):
            # The worker sees again once it has read the backlog, not when the MQTT process
            # received its end: that process reads ahead of the worker by a queue and a pipe.
            self.drain_refused = event.kind is LinkKind.DRAIN_REFUSED
            self.journal_link(SEEING, max(event.at_ms, self.clock()), b"")
            give_back()

    def journal_link(self, topic: str, at_ms: int, payload: bytes) -> None:
        position = self.archive.append([(at_ms, topic, payload)])
        changes = link_changes(self.engine, topic, at_ms, payload)
        self.ledger.commit(changes, journal=encode_position(position))

    def commit(self, received: list[Received], sweep_ms: int | None) -> None:
        messages = [Message(r.received_ms, r.topic, r.payload) for r in received]
        records = [(m.received_ms, m.topic, m.payload) for m in messages]
        if sweep_ms is not None:
            records.append((sweep_ms, SWEEP, b""))
        else:
            records.append((max(m.received_ms for m in messages), BATCH, b""))
        tally = Tally()
        with self.metrics.commit_seconds.time():
            position = self.archive.append(records)
            ingest(
                self.router,
                self.engine,
                self.ledger,
                messages,
                tally,
                sweep_ms,
                encode_position(position),
            )
        self.source.ack_all(received)
        self.batch_started_ms = None
        self.count(tally)

    def close_previous_month(self, now_ms: int) -> None:
        calendar = self.site.calendar
        this_month = parse_period(calendar.month_label(now_ms))
        start, _ = calendar.period_bounds(this_month)
        previous = calendar.month_label(start - 1)
        if (
            start <= (self.ledger.accounting_start_ms or 0)
            or previous in self.ledger.closed_periods()
            or not closable(self.site, self.engine, previous, now_ms)
        ):
            return
        position = self.archive.append([(now_ms, CLOSE, previous.encode())])
        if close_month(self.site, self.ledger, self.engine, previous, now_ms, position):
            log.info("closed %s", previous)

    def show_liabilities(self, now_ms: int) -> None:
        """Month-to-date figures for the operator's dashboard, from the same code as the report."""
        calendar = self.site.calendar
        period = parse_period(calendar.month_label(now_ms))
        [figures] = build_supply_figures(
            self.ledger, self.site.id, calendar, self.site.rates, [period]
        )
        for supply in Supply:
            energy = figures.supply_energy(supply)
            for basis, mj in (("metered", energy.metered_mj), ("deemed", energy.deemed_mj)):
                self.metrics.owed_kwh.labels(supply.value, basis).set(mj / MJ_PER_KWH)
            self.metrics.owed_tenge.labels(supply.value).set(float(figures.supply_fee(supply)))

    def count(self, tally: Tally) -> None:
        self.metrics.messages.inc(tally.messages)
        self.metrics.accepted.inc(tally.accepted)
        for reason, n in tally.rejected.items():
            self.metrics.rejected.labels(reason).inc(n)
        self.since_start.by_meter.update(tally.by_meter)
        for meter, change in tally.statuses.items():
            self.availability[meter] = change.status
        if tally.statuses:
            self.show_meters(self.clock())

    def catching_up(self) -> bool:
        """Connected and still reading the backlog the broker kept (blind until its end is
        read): the meters' readings are on their way, their states as old as the outage.
        Asked from the scheduler's thread: it reads two values the worker replaces whole."""
        return self.source.connected and self.engine.blindness.blind

    def statuses(self, now_ms: int) -> dict[str, MeterStatus]:
        stale = self.site.rules.stale_after_ms
        return {
            meter: meter_status(state, self.availability.get(meter), now_ms, stale)
            for meter, state in self.engine.states.items()
        }

    def health(self) -> tuple[bool, dict[str, object]]:
        """Healthy while connected to the broker; the details say what an operator looks at (a
        ledger clock not set yet is null). Called from the health server's threads, so it reads
        only what the worker publishes whole: the meters by status as of the last look."""
        clock = self.engine.clock_ms
        details: dict[str, object] = {
            "connected": self.source.connected,
            "ledger_clock": self.site.calendar.iso(clock) if clock else None,
            "queue_depth": self.inbox.qsize(),
            "meters": self.counts,
        }
        problems = self.problems()
        if problems:
            details[DEGRADED] = problems
        return self.source.connected, details

    def problems(self) -> list[str]:
        """What works but needs an operator: /healthz says degraded while any is there."""
        problems = [] if self.archive.damaged is None else [self.archive.damaged]
        if self.drain_refused:
            problems.append(
                "the broker refuses the drain marker on levy/drain/#: sweeps wait stale_after_s "
                "after each connect instead of for the end of the backlog"
            )
        return problems

    def observe(self) -> None:
        now = self.clock()
        self.metrics.queue_depth.set(self.inbox.qsize())
        self.metrics.ledger_clock.set(self.engine.clock_ms / 1000)
        self.metrics.connected.set(1 if self.source.connected else 0)
        self.metrics.blind.set(1 if self.engine.blindness.blind else 0)
        oldest = self.batch_started_ms
        self.metrics.oldest_unacked.set(0 if oldest is None else max(0, now - oldest) / 1000)

    def show_meters(self, now_ms: int) -> None:
        """Meters by status, at each sweep and when a device reports its availability: a walk
        over every meter is no work for every batch."""
        statuses = self.statuses(now_ms)
        if self.known is not None:
            for line in status_lines(self.known, statuses, self.engine.states, self.site.calendar):
                log.info("%s", line)
        self.known = statuses
        counts = Counter(statuses.values())
        for status in MeterStatus:
            self.metrics.meters.labels(status.value).set(counts[status])
        self.counts = {status.value: n for status, n in counts.items()}
        self.metrics.rejecting_meters.clear()
        for (meter, reason), count in self.since_start.rejecting_most(TOP_REJECTING):
            self.metrics.rejecting_meters.labels(meter, reason).set(count)
