"""The one path from received messages to committed rows, shared by replay and the daemon:
route each message, apply the batch in the engine, commit rows, state and rejections together."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol

from collector.router import Router, StatusChange
from levy.core.engine import Changes, Engine
from levy.core.model import Reading, Rejection, RejectReason, new_reading
from levy.ledger.rejections import RejectionRecord, number_copies
from levy.ledger.store import Ledger

NOT_LOGGED = {RejectReason.DUPLICATE}
"""Redeliveries and replays repeat messages by design: they are counted, not logged."""
_received_ms = attrgetter("received_ms")


class Ignored(StrEnum):
    """Kinds of messages that are neither accepted nor rejected: a device's online/offline report,
    a message on a device's companion topic (a Tasmota's `STATE`, an mbmd `Power` no meter bills
    on), a message on a meter's topic that holds nothing to bill (a Shelly RPC reply), and (in a
    replay) a line after `--until`."""

    AVAILABILITY = "availability"
    COMPANION = "companion topic"
    NO_READING = "no reading"
    AFTER_UNTIL = "after --until"


@dataclass
class Tally:
    messages: int = 0
    accepted: int = 0
    """Readings accepted (a message may hold readings of several meters)."""
    rejected: Counter[str] = field(default_factory=Counter)
    """Rejections by reason, one per meter a message concerns."""
    by_meter: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Rejections per (meter, reason), repeats aside: a misconfigured meter shows up by name."""
    statuses: dict[str, StatusChange] = field(default_factory=dict)
    messages_accepted: int = 0
    """Messages with at least one accepted reading."""
    messages_rejected: Counter[str] = field(default_factory=Counter)
    """Messages with rejections and no accepted reading, by the reason of the first rejection."""
    messages_ignored: Counter[Ignored] = field(default_factory=Counter)
    """Messages with neither, by kind: with the two above,
    every message is counted exactly once."""

    def add(self, accepted: int, rejected: Sequence[RejectionRecord]) -> None:
        self.accepted += accepted
        self.rejected.update(record.reason.value for record in rejected)
        self.by_meter.update(
            (record.meter, record.reason.value)
            for record in rejected
            if record.meter is not None and record.reason not in NOT_LOGGED
        )

    def rejecting_most(self, count: int) -> list[tuple[tuple[str, str], int]]:
        return self.by_meter.most_common(count)


class Delivered(Protocol):
    """A message as `ingest` reads it: the daemon's `Message`, or a replay's `FeedLine` as read
    (no copy of it per line)."""

    @property
    def received_ms(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


@dataclass(slots=True)
class Routed:
    """A batch routed, and what became of each of its messages (by index) so far: flat lists
    rather than an object per message, as a batch holds up to a replay window of them. Complete
    without the router or the messages' topics, so that a replay can route in another process
    (see `routed_feed`)."""

    readings: list[Reading]
    owners: list[int]
    """The index of each reading's message."""
    live: list[int]
    """Per message, how many of its readings still stand."""
    reasons: list[str | None]
    """Per message, its first rejection's reason."""
    idle: dict[int, Ignored] = field(default_factory=dict)
    """The messages that gave neither a reading nor a rejection, by what they were."""
    statuses: dict[str, StatusChange] = field(default_factory=dict)
    """The devices' status reports, the last of each meter's."""
    rejected: list[RejectionRecord] = field(default_factory=list)
    latest_ms: int | None = None
    """The latest receive time of the batch's messages."""

    def extend(self, rest: "Routed", start: int) -> None:
        """`rest`, the batch's messages from index `start` on routed apart (`route_rest` into a
        `Routed` of their own), after these: as if one router had routed them all in order."""
        self.readings += rest.readings
        self.owners += rest.owners
        self.live[start:] = rest.live[start:]
        self.reasons[start:] = rest.reasons[start:]
        self.idle.update(rest.idle)
        self.statuses.update(rest.statuses)
        self.rejected += rest.rejected

    def refuse(self, index: int, reason: RejectReason) -> None:
        if self.reasons[index] is None:
            self.reasons[index] = reason.value

    def refuse_applied(
        self, messages: Sequence[Delivered], rejections: list[tuple[Reading, Rejection]]
    ) -> None:
        """The engine's rejections, each traced to its message by the reading's identity."""
        if not rejections:
            return
        pairs = zip(self.readings, self.owners, strict=True)
        owner = {id(reading): index for reading, index in pairs}
        for reading, why in rejections:
            index = owner[id(reading)]
            self.rejected.append(record(messages[index], why))
            self.live[index] -= 1
            self.refuse(index, why.reason)

    def count(self, tally: Tally) -> None:
        """Each message once: accepted if one of its readings stands, else by its first
        rejection, else by what it was."""
        idle = [index for index, live in enumerate(self.live) if not live]
        tally.messages_accepted += len(self.live) - len(idle)
        for index in idle:
            reason = self.reasons[index]
            if reason is not None:
                tally.messages_rejected[reason] += 1
            else:
                tally.messages_ignored[self.idle[index]] += 1

    def __getstate__(self) -> tuple[object, ...]:
        """The readings as columns: a list of NamedTuples pickles at two Python calls each."""
        columns = tuple(map(list, zip(*self.readings, strict=True))) if self.readings else ()
        return (
            columns,
            self.owners,
            self.live,
            self.reasons,
            self.idle,
            self.statuses,
            self.rejected,
            self.latest_ms,
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        columns, self.owners, self.live, self.reasons, self.idle, *rest = state
        self.statuses, self.rejected, self.latest_ms = rest
        self.readings = list(map(new_reading, zip(*columns, strict=True))) if columns else []


def record(message: Delivered, rejection: Rejection) -> RejectionRecord:
    return RejectionRecord(
        message.received_ms,
        rejection.reason,
        rejection.detail,
        message.topic,
        rejection.meter,
        message.payload,
    )


def route_batch(router: Router, messages: Sequence[Delivered], stop: int | None = None) -> Routed:
    """Every message routed (or the first `stop`: `route_rest` routes the others), its readings
    kept for the engine and its rejections recorded."""
    routed = Routed([], [], [0] * len(messages), [None] * len(messages))
    if messages:
        routed.latest_ms = max(map(_received_ms, messages))
    route_rest(router, messages if stop is None else messages[:stop], routed, 0)
    return routed


def route_rest(router: Router, messages: Sequence[Delivered], routed: Routed, start: int) -> None:
    """`messages`, the batch's from index `start` on, routed into `routed` (which holds the
    batch's messages before `start` routed, or none of them: see `Routed.extend`)."""
    route, readings, owners, live = router.route, routed.readings, routed.owners, routed.live
    for index, message in enumerate(messages, start):
        outcomes = route(message.topic, message.payload, message.received_ms)
        statused = False
        for outcome in outcomes:
            if isinstance(outcome, Reading):
                readings.append(outcome)
                owners.append(index)
                live[index] += 1
            elif isinstance(outcome, Rejection):
                routed.rejected.append(record(message, outcome))
                routed.refuse(index, outcome.reason)
            else:
                routed.statuses[outcome.meter] = outcome
                statused = True
        if not live[index] and routed.reasons[index] is None:
            routed.idle[index] = idle_kind(router, message.topic, statused)


def observe_rest(router: Router, messages: Sequence[Delivered], start: int) -> None:
    """The batch's messages from `start` on, which another router routes (see `Router.shares`),
    observed by `router`: it keeps what they say as if it had routed them. A message it takes
    replaces what the topic's earlier ones kept (see `RouterBuilder.observes`), so they are
    offered from the last, and a topic's earlier ones only until one is taken: a Shelly status
    is parsed once a batch, not once a message."""
    if router.stateless:
        return
    observe, taken = router.observe, set()
    for index in range(len(messages) - 1, start - 1, -1):
        message = messages[index]
        topic = message.topic
        if topic not in taken and observe(topic, message.payload):
            taken.add(topic)


def idle_kind(router: Router, topic: str, statused: bool) -> Ignored:
    if statused:
        return Ignored.AVAILABILITY
    return Ignored.NO_READING if router.concerns_meters(topic) else Ignored.COMPANION


def apply_routed(
    engine: Engine,
    messages: Sequence[Delivered],
    routed: Routed,
    tally: Tally,
    now_ms: int | None = None,
    into: Changes | None = None,
) -> tuple[Changes, list[RejectionRecord]]:
    """Apply one routed batch (then sweep at `now_ms` if given) and count it: what changed
    (added to `into` if given, see `Engine.apply`), and the rejections to log, for the ledger
    to commit."""
    if routed.latest_ms is not None:
        engine.advance_clock(routed.latest_ms)
    changes = Changes() if into is None else into
    refused, accepted = len(changes.rejections), changes.accepted
    engine.apply(routed.readings, now_ms, changes)
    routed.refuse_applied(messages, changes.rejections[refused:])
    rejected = routed.rejected
    tally.messages += len(messages)
    tally.statuses.update(routed.statuses)
    tally.add(changes.accepted - accepted, rejected)
    routed.count(tally)
    return changes, number_copies([r for r in rejected if r.reason not in NOT_LOGGED])


def ingest(
    router: Router,
    engine: Engine,
    ledger: Ledger,
    messages: Sequence[Delivered],
    tally: Tally,
    now_ms: int | None = None,
    journal: str | None = None,
) -> Changes:
    """Route and apply one batch, committed with the archive's `journal` position; returns
    what changed."""
    routed = route_batch(router, messages)
    changes, logged = apply_routed(engine, messages, routed, tally, now_ms)
    ledger.commit(changes, logged, journal)
    return changes
