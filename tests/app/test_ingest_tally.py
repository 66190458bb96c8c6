"""`ingest`'s bookkeeping against its definition, message by message: each message counted once
(accepted if one of its readings stands, else by its first rejection, routing's before the
engine's, else as an availability report, a message with no reading or a companion topic's),
and each rejection recorded with its message, whichever readings the engine refuses (its
rejections in the order it reports them). A batch routed in two parts, by two routers built
alike, is the batch routed at once."""

from collections import Counter
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from collector.message import Message
from collector.router import Router, StatusChange
from levy.app.ingest import Ignored, Routed, Tally, ingest, record, route_batch, route_rest
from levy.core.engine import Changes
from levy.core.model import Measure, Reading, Rejection, RejectReason
from levy.ledger.rejections import RejectionRecord, number_copies
from tests.collector.support import ALMATY, RECEIVED, Meter

FLEET = (
    Meter("a", "site/a", "native"),
    Meter("b", "site/shared", "native"),
    Meter("c", "site/shared", "native", measure=Measure.POWER),
    Meter("pow", "tele/pow/SENSOR", "tasmota"),
)
TOPICS = ["site/a", "site/shared", "tele/pow/SENSOR", "tele/pow/LWT", "tele/pow/STATE", "x/y"]
PAYLOADS = [
    b'{"energy_kwh": 1.5, "power_w": 2}',
    b'{"energy_kwh": 1.5}',
    b'{"power_w": -3}',
    b'{"fault": true}',
    b'{"ENERGY": {"Total": 2.5, "Power": 7}}',
    b"Online",
    b"Offline",
    b"[1]",
    b"{",
    b"",
]
ENGINE_REASONS = [RejectReason.DUPLICATE, RejectReason.CLOCK_SKEW]

messages_strategy = st.lists(
    st.builds(
        Message,
        st.integers(RECEIVED, RECEIVED + 60_000),
        st.sampled_from(TOPICS),
        st.sampled_from(PAYLOADS),
    ),
    max_size=30,
)


class RefusingEngine:
    """Refuses the readings at the drawn positions, in an order of its own (reversed)."""

    def __init__(self, refused: set[int]) -> None:
        self.refused = refused

    def advance_clock(self, now_ms: int) -> None:
        pass

    def apply(
        self, readings: Sequence[Reading], now_ms: int | None = None, into: Changes | None = None
    ) -> Changes:
        changes = Changes() if into is None else into
        for position in reversed(range(len(readings))):
            if position in self.refused:
                why = Rejection(ENGINE_REASONS[position % 2], "refused", readings[position].meter)
                changes.rejections.append((readings[position], why))
            else:
                changes.accepted += 1
        return changes


class KeepingLedger:
    def __init__(self) -> None:
        self.rejections: list[RejectionRecord] = []

    def commit(
        self, changes: Changes, rejections: list[RejectionRecord], journal: str | None
    ) -> None:
        self.rejections = rejections


def expected(messages: list[Message], refused: set[int]) -> tuple[Tally, list[RejectionRecord]]:
    """The tally and the logged rejections by the definition, one message at a time."""
    router = Router(FLEET, ALMATY)
    tally = Tally(messages=len(messages))
    routed = [router.route(m.topic, m.payload, m.received_ms) for m in messages]
    owned = [(i, o) for i, outcomes in enumerate(routed) for o in outcomes]
    readings = [(i, o) for i, o in owned if isinstance(o, Reading)]
    engine = RefusingEngine(refused).apply([reading for _, reading in readings])
    refusals = {id(reading): why for reading, why in engine.rejections}
    owner = {id(reading): i for i, reading in readings}
    rejected = [record(messages[i], o) for i, o in owned if isinstance(o, Rejection)]
    rejected += [record(messages[owner[id(r)]], why) for r, why in engine.rejections]
    for index, outcomes in enumerate(routed):
        mine = [r for i, r in readings if i == index]
        reasons = [o.reason.value for o in outcomes if isinstance(o, Rejection)]
        reasons += [why.reason.value for r, why in engine.rejections if owner[id(r)] == index]
        statuses = [o for o in outcomes if isinstance(o, StatusChange)]
        tally.statuses.update((status.meter, status) for status in statuses)
        if any(id(r) not in refusals for r in mine):
            tally.messages_accepted += 1
        elif reasons:
            tally.messages_rejected[reasons[0]] += 1
        elif statuses:
            tally.messages_ignored[Ignored.AVAILABILITY] += 1
        elif router.concerns_meters(messages[index].topic):
            tally.messages_ignored[Ignored.NO_READING] += 1
        else:
            tally.messages_ignored[Ignored.COMPANION] += 1
    tally.add(engine.accepted, rejected)
    return tally, number_copies([r for r in rejected if r.reason is not RejectReason.DUPLICATE])


@given(messages_strategy, st.sets(st.integers(0, 60)))
def test_ingest_counts_each_message_by_its_definition(
    messages: list[Message], refused: set[int]
) -> None:
    tally, ledger = Tally(), KeepingLedger()
    router = Router(FLEET, ALMATY)
    ingest(router, RefusingEngine(refused), ledger, messages, tally)  # type: ignore[arg-type]
    want, logged = expected(messages, refused)
    assert tally == want
    assert ledger.rejections == logged
    assert tally.messages == tally.messages_accepted + sum(
        (tally.messages_rejected + Counter(tally.messages_ignored)).values()
    )


@given(messages_strategy, st.integers(0, 30))
def test_a_batch_routed_in_two_parts_is_the_batch_routed_at_once(
    messages: list[Message], split: int
) -> None:
    """As replay's two processes route it: the first part, then the rest apart, joined."""
    whole = route_batch(Router(FLEET, ALMATY), messages)
    start = min(split, len(messages))
    parted = route_batch(Router(FLEET, ALMATY), messages, start)
    rest = Routed([], [], [0] * len(messages), [None] * len(messages))
    route_rest(Router(FLEET, ALMATY), messages[start:], rest, start)
    parted.extend(rest, start)
    for name in Routed.__slots__:
        assert getattr(parted, name) == getattr(whole, name), name
