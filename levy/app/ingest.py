"""The one path from received messages to committed rows, shared by replay and the daemon:
route each message, apply the batch in the engine, commit rows, state and rejections together."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from collector.message import Message
from collector.router import Router, StatusChange
from levy.core.engine import Changes, Engine
from levy.core.model import Reading, Rejection, RejectReason
from levy.ledger.rejections import RejectionRecord, number_copies
from levy.ledger.store import Ledger

NOT_LOGGED = {RejectReason.DUPLICATE}
"""Redeliveries and replays repeat messages by design: they are counted, not logged."""


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


@dataclass(slots=True)
class _Fate:
    """What became of one message of a batch."""

    readings: int = 0
    refused: int = 0
    """Of its readings, how many the engine rejected."""
    reason: str | None = None
    """Its first rejection's reason."""
    status: bool = False

    def refuse(self, reason: RejectReason) -> None:
        if self.reason is None:
            self.reason = reason.value


def _count_fates(
    router: Router, messages: Sequence[Message], fates: Sequence[_Fate], tally: Tally
) -> None:
    for message, fate in zip(messages, fates, strict=True):
        if fate.readings > fate.refused:
            tally.messages_accepted += 1
        elif fate.reason is not None:
            tally.messages_rejected[fate.reason] += 1
        elif fate.status:
            tally.messages_ignored[Ignored.AVAILABILITY] += 1
        elif router.concerns_meters(message.topic):
            tally.messages_ignored[Ignored.NO_READING] += 1
        else:
            tally.messages_ignored[Ignored.COMPANION] += 1


def record(message: Message, rejection: Rejection) -> RejectionRecord:
    return RejectionRecord(
        message.received_ms,
        rejection.reason,
        rejection.detail,
        message.topic,
        rejection.meter,
        message.payload,
    )


def ingest(
    router: Router,
    engine: Engine,
    ledger: Ledger,
    messages: Sequence[Message],
    tally: Tally,
    now_ms: int | None = None,
    journal: str | None = None,
) -> Changes:
    """Apply one batch (then sweep at `now_ms` if given) and commit it with the archive's
    `journal` position; returns what changed."""
    readings: list[Reading] = []
    origin: dict[int, int] = {}
    """id of a reading -> index of its message."""
    fates = [_Fate() for _ in messages]
    rejected: list[RejectionRecord] = []
    for index, message in enumerate(messages):
        fate = fates[index]
        for outcome in router.route(message.topic, message.payload, message.received_ms):
            if isinstance(outcome, Reading):
                readings.append(outcome)
                origin[id(outcome)] = index
                fate.readings += 1
            elif isinstance(outcome, Rejection):
                rejected.append(record(message, outcome))
                fate.refuse(outcome.reason)
            else:
                tally.statuses[outcome.meter] = outcome
                fate.status = True
    if messages:
        engine.advance_clock(max(message.received_ms for message in messages))
    changes = engine.apply(readings, now_ms=now_ms)
    for reading, why in changes.rejections:
        index = origin[id(reading)]
        rejected.append(record(messages[index], why))
        fates[index].refused += 1
        fates[index].refuse(why.reason)
    ledger.commit(
        changes, number_copies([r for r in rejected if r.reason not in NOT_LOGGED]), journal
    )
    tally.messages += len(messages)
    tally.add(changes, rejected)
    _count_fates(router, messages, fates, tally)
    return changes
