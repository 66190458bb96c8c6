"""What a device format's handlers are made of: the outcomes a message gives, what the router
needs of a configured meter, and the few pieces every format's handlers share (parse once and
read per meter, availability, one rejection per meter)."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Protocol, TypeVar

from collector.decoders.common import DecodeError, Sample
from levy.core.model import Availability, Measure, Reading, Rejection, new_reading


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device's own report of being online or offline: for dashboards, never for billing."""

    meter: str
    status: Availability

    def __reduce__(self) -> tuple[type["StatusChange"], tuple[str, Availability]]:
        """Unpickled by its constructor, as `Rejection` is (see there)."""
        return StatusChange, (self.meter, self.status)


Outcome = Reading | Rejection | StatusChange
Handler = Callable[[bytes, int], list[Outcome]]
"""(payload, received_ms) -> outcomes."""
Observer = Callable[[bytes], object]
"""What a message changes of what a format keeps, without its outcomes: for a message another
router built alike routes (see `RouterBuilder.observes`). It changes what is kept only where
routing the message would, and only once it cannot fail; what it keeps replaces what the topic's
messages before it kept."""
Parsed = TypeVar("Parsed")


class MeterBinding(Protocol):
    """What the router needs of a configured meter (the configuration's meter model fits)."""

    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def channel(self) -> int | None: ...
    @property
    def component(self) -> str | None: ...
    @property
    def measure(self) -> str | None:
        """A `Measure`, or its value as plain text; None: decided by the meter's first valid
        reading."""
        ...


class RouterBuilder(Protocol):
    """What a format's `bind` may do to the router being built."""

    @property
    def zone(self) -> tzinfo:
        """The site zone, for payload times without an offset."""
        ...

    @property
    def limit(self) -> int:
        """The longest payload a decoder may be handed."""
        ...

    def add(self, topic: str, handler: Handler, meters: list[str]) -> None:
        """`handler` for every message on `topic`, which concerns `meters`; ValueError for a
        topic claimed twice or too long."""
        ...

    def observes(self, topic: str, observe: Observer) -> None:
        """An `add`ed topic whose messages change what its format keeps of a device (a Shelly's
        status, which its partial frames are merged onto): `observe` makes that change alone.
        Each message on it that routes replaces what the ones before it kept (a Shelly's status
        is whole), so of a run of them only the last that routes needs observing."""
        ...

    def reads_kept(self, topic: str) -> None:
        """An `add`ed topic whose messages mean what they mean given what its format keeps: such
        a message is routed only where every message before it was."""
        ...

    def add_targets(self, topic: str, handler: "TargetsHandler", targets: "Targets") -> None:
        """`handler(targets, payload, received_ms)` for every message on `topic`, which concerns
        the targets' meters: one handler a format shares between its topics, where `add` takes
        one per topic (a large site has 100,000 of them). ValueError as for `add`."""
        ...

    def add_device(self, prefix: str) -> None:
        """Topics below `prefix` without a handler are a known device's: no outcome."""
        ...


class _Meter(Protocol):
    @property
    def meter(self) -> str: ...


Target = TypeVar("Target", bound=_Meter)


@dataclass(frozen=True, slots=True)
class MeterTarget:
    meter: str
    measure: Measure | None
    channel: int = 1


Targets = tuple[MeterTarget, ...]
TargetsHandler = Callable[[Targets, bytes, int], list[Outcome]]
"""(targets, payload, received_ms) -> outcomes."""


def each(
    parse: Callable[[bytes, int], Parsed],
    read: Callable[[Parsed, MeterTarget, int], Sample | None],
    targets: Targets,
    payload: bytes,
    received_ms: int,
) -> list[Outcome]:
    """Parse once, then read per meter; a parse failure is one rejection per meter. Both see
    the receive time, which resolves a naive local time around a clock change. A format binds
    `partial(each, parse, read)` once, for all its topics (see `RouterBuilder.add_targets`)."""
    try:
        parsed = parse(payload, received_ms)
    except DecodeError as error:
        return rejections((t.meter for t in targets), error)
    return read_each(targets, read, parsed, received_ms)


def read_each(
    targets: Sequence[Target],
    read: Callable[[Parsed, Target, int], Sample | None],
    parsed: Parsed,
    received_ms: int,
) -> list[Outcome]:
    """One outcome per meter, read from what its message `parsed` to: a failure only concerns
    its meter, and None means the message holds nothing for that meter. (`read` takes what
    it reads as an argument rather than closing over it: no function built per message.)"""
    outcomes: list[Outcome] = []
    for target in targets:
        try:
            sample = read(parsed, target, received_ms)
        except DecodeError as error:
            outcomes.append(Rejection(error.reason, error.detail, target.meter))
            continue
        if sample is not None:
            ts_ms = received_ms if sample.ts_ms is None else sample.ts_ms
            values = (sample.energy_mj, sample.power_mw, sample.fault)
            outcomes.append(new_reading((target.meter, ts_ms, received_ms, *values)))
    return outcomes


def availability(
    parse: Callable[[bytes], Availability], meters: list[str], payload: bytes, _received_ms: int
) -> list[Outcome]:
    try:
        status = parse(payload)
    except DecodeError as error:
        return rejections(meters, error)
    return [StatusChange(meter, status) for meter in meters]


def rejections(meters: Iterable[str], error: DecodeError) -> list[Outcome]:
    return [Rejection(error.reason, error.detail, meter) for meter in meters]


def targets(group: Sequence[MeterBinding]) -> Targets:
    return tuple(MeterTarget(b.id, measure_of(b)) for b in group)


def measure_of(binding: MeterBinding) -> Measure | None:
    """The pinned measure (configuration may give it as plain text), or None."""
    return None if binding.measure is None else Measure(binding.measure)


def ids(group: Sequence[MeterBinding]) -> list[str]:
    return [binding.id for binding in group]
