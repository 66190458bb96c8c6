"""The one path from received messages to committed rows, shared by replay and the daemon:
route each message, apply the batch in the engine, commit rows, state and rejections together."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from collector.router import Router, StatusChange
from levy.core.engine import Changes, Engine
from levy.core.model import Reading, Rejection, RejectReason
from levy.ledger.rejections import RejectionRecord, number_copies
from levy.ledger.store import Ledger

NOT_LOGGED = {RejectReason.DUPLICATE}
"""Redeliveries and replays repeat messages by design: they are counted, not logged."""


@dataclass(frozen=True, slots=True)
class Message:
    received_ms: int
    topic: str
    payload: bytes


@dataclass
class Tally:
    messages: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    by_meter: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Rejections per (meter, reason), repeats aside: a misconfigured meter shows up by name."""
    statuses: dict[str, StatusChange] = field(default_factory=dict)

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
    origin: dict[int, Message] = {}
    rejected: list[RejectionRecord] = []
    for message in messages:
        for outcome in router.route(message.topic, message.payload, message.received_ms):
            if isinstance(outcome, Reading):
                readings.append(outcome)
                origin[id(outcome)] = message
            elif isinstance(outcome, Rejection):
                rejected.append(record(message, outcome))
            else:
                tally.statuses[outcome.meter] = outcome
    if messages:
        engine.advance_clock(max(message.received_ms for message in messages))
    changes = engine.apply(readings, now_ms=now_ms)
    rejected += [record(origin[id(reading)], why) for reading, why in changes.rejections]
    ledger.commit(
        changes, number_copies([r for r in rejected if r.reason not in NOT_LOGGED]), journal
    )
    tally.messages += len(messages)
    tally.add(changes, rejected)
    return changes
