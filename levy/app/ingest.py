"""The one path from received messages to committed rows, shared by replay and the daemon:
route each message, apply the batch in the engine, commit rows, state and rejections together."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Protocol

from collector.router import Router, StatusChange
from levy.core.engine import Changes, Engine
from levy.core.model import Reading, Rejection, RejectReason
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

    def add(self, changes: Changes, rejected: Sequence[RejectionRecord]) -> None:
        self.accepted += changes.accepted
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
class _Routed:
    """A batch routed, and what became of each of its messages (by index) so far: flat lists
    rather than an object per message, as a batch holds up to a replay window of them."""

    readings: list[Reading]
    owners: list[int]
    """The index of each reading's message."""
    live: list[int]
    """Per message, how many of its readings still stand."""
    reasons: list[str | None]
    """Per message, its first rejection's reason."""
    statused: set[int] = field(default_factory=set)
    """The messages that reported a device's status."""
    rejected: list[RejectionRecord] = field(default_factory=list)

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

    def count(self, router: Router, messages: Sequence[Delivered], tally: Tally) -> None:
        """Each message once: accepted if one of its readings stands, else by its first
        rejection, else by what it was."""
        idle = [index for index, live in enumerate(self.live) if not live]
        tally.messages_accepted += len(messages) - len(idle)
        for index in idle:
            reason = self.reasons[index]
            if reason is not None:
                tally.messages_rejected[reason] += 1
            elif index in self.statused:
                tally.messages_ignored[Ignored.AVAILABILITY] += 1
            elif router.concerns_meters(messages[index].topic):
                tally.messages_ignored[Ignored.NO_READING] += 1
            else:
                tally.messages_ignored[Ignored.COMPANION] += 1


def record(message: Delivered, rejection: Rejection) -> RejectionRecord:
    return RejectionRecord(
        message.received_ms,
        rejection.reason,
        rejection.detail,
        message.topic,
        rejection.meter,
        message.payload,
    )


def _route(
    router: Router, messages: Sequence[Delivered], statuses: dict[str, StatusChange]
) -> _Routed:
    """Every message routed, its readings kept for the engine and its rejections recorded; a
    device's status goes to `statuses`."""
    routed = _Routed([], [], [0] * len(messages), [None] * len(messages))
    route, readings, owners, live = router.route, routed.readings, routed.owners, routed.live
    for index, message in enumerate(messages):
        for outcome in route(message.topic, message.payload, message.received_ms):
            if isinstance(outcome, Reading):
                readings.append(outcome)
                owners.append(index)
                live[index] += 1
            elif isinstance(outcome, Rejection):
                routed.rejected.append(record(message, outcome))
                routed.refuse(index, outcome.reason)
            else:
                statuses[outcome.meter] = outcome
                routed.statused.add(index)
    return routed


def apply_batch(
    router: Router,
    engine: Engine,
    messages: Sequence[Delivered],
    tally: Tally,
    now_ms: int | None = None,
) -> tuple[Changes, list[RejectionRecord]]:
    """Route and apply one batch (then sweep at `now_ms` if given) and count it: what changed,
    and the rejections to log, for the ledger to commit."""
    routed = _route(router, messages, tally.statuses)
    if messages:
        engine.advance_clock(max(map(_received_ms, messages)))
    changes = engine.apply(routed.readings, now_ms=now_ms)
    routed.refuse_applied(messages, changes.rejections)
    rejected = routed.rejected
    tally.messages += len(messages)
    tally.add(changes, rejected)
    routed.count(router, messages, tally)
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
    """`apply_batch`, committed with the archive's `journal` position; returns what changed."""
    changes, logged = apply_batch(router, engine, messages, tally, now_ms)
    ledger.commit(changes, logged, journal)
    return changes
