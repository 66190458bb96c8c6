"""From (topic, payload) to what it means for each meter: readings, rejections, status changes.

Every topic the router listens on is resolved at construction into one handler in a dict, so a
message costs one lookup, one decode and one outcome per meter it concerns. Each meter's format
(`collector.formats`, asked by name) adds the handlers for its topics; the only state kept is
each Shelly component's last known status, which partial `NotifyStatus` frames are merged onto.

A meter whose `measure` is None leaves it to its first valid reading (DESIGN.md rule 5, decided
by the engine): its readings carry every value the payload has, and only a payload with neither
is refused (`native`, `tasmota`) or not a reading (`zigbee2mqtt`). Shelly components and mbmd,
whose devices always report a register, bill on it unless the meter pins `power`. Payload times
without an offset are read in `zone`, nearest the receive time around a clock change.

Nothing one message holds can stop the others (DESIGN.md rule 1): a payload longer than
`max_payload` is refused `oversized` before anything reads it, a topic longer than
`MAX_TOPIC_BYTES` is no meter's, and any exception a handler raises on a message (a decoder's
bug, say) becomes an `internal` rejection for each meter the topic concerns.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import Any

from levy.core.model import Rejection, RejectReason

from . import formats
from .decoders.common import (
    DEFAULT_MAX_PAYLOAD,
    MAX_TOPIC_BYTES,
    DecodeError,
    check_size,
    size_of,
    topic_size,
)
from .formats.routing import (
    Handler,
    MeterBinding,
    Observer,
    Outcome,
    StatusChange,
    Targets,
    TargetsHandler,
    rejections,
)

__all__ = ["Handler", "MeterBinding", "Outcome", "Router", "StatusChange"]

log = logging.getLogger(__name__)


class Router:
    """Routes one message to the meters bound to its topic.

    A meter's `topic` is the exact topic or the device prefix, as its format says (`shelly` and
    `mbmd` take a prefix). Topics below a known device that carry nothing the levy
    reads (a Shelly's `status/sys`, Tasmota's `tele/<device>/STATE`, mbmd's `Voltage/L1`) give no
    outcome; any other topic without a meter, and any topic longer than `MAX_TOPIC_BYTES`, is an
    `unknown_meter` rejection. Construction raises ValueError for a binding that could never
    yield a reading, or whose topic is longer than that.
    """

    def __init__(
        self,
        bindings: Iterable[MeterBinding],
        zone: tzinfo,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self._zone = zone
        self._limit = max_payload
        self._routes: dict[str, tuple[Callable[[Any, bytes, int], list[Outcome]], Any]] = {}
        """Per topic, a handler and what it is called with (see `route`): two references, not
        a function of its own, per topic."""
        self._concerns: dict[str, list[str]] = {}
        """The meters the messages of an `add`ed topic concern (an `add_targets` topic's are
        its targets'), for the rejections of a failed message."""
        self._logged: set[type[Exception]] = set()
        self._observers: dict[str, Observer] = {}
        """The topics whose messages change what a format keeps (see `observe`)."""
        self._reading_state: set[str] = set()
        """The topics whose messages mean what they mean given what a format keeps."""
        self._devices: set[str] = set()
        grouped: dict[str, dict[str, list[MeterBinding]]] = defaultdict(lambda: defaultdict(list))
        for binding in bindings:
            if formats.find(binding.format) is None:
                raise ValueError(f"meter {binding.id}: unknown format {binding.format!r}")
            grouped[binding.format][binding.topic].append(binding)
        for name, devices in grouped.items():
            formats.get(name).bind(self, devices)

    @property
    def zone(self) -> tzinfo:
        return self._zone

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def stateless(self) -> bool:
        """Whether a message's outcomes depend on it alone and it changes nothing kept (no
        format that keeps state, such as a Shelly's status, is bound): then routers built alike
        may share a batch's messages in any way."""
        return not self._observers and not self._reading_state

    def shares(self, topics: Iterable[str]) -> bool:
        """Whether messages on `topics` may be routed by another router built alike, this one
        keeping up with them by `observe`: none of them means what it means given what a
        format keeps (a Shelly's partial status frames, merged onto its last status)."""
        return self.stateless or self._reading_state.isdisjoint(topics)

    def observe(self, topic: str, payload: bytes) -> bool:
        """What routing the message would change in what this router keeps, without its
        outcomes, for a message another router routes (see `shares`); whether it changed
        anything. Nothing where routing it changes nothing: a topic that keeps nothing, a payload
        refused before its handler, or one its handler fails on."""
        observer = self._observers.get(topic)
        if observer is None or size_of(payload) > self._limit:
            return False
        try:
            observer(payload)
        except MemoryError:
            raise
        except Exception:  # routing the message rejects it; the router that routes it says so
            return False
        return True

    def route(self, topic: str, payload: bytes, received_ms: int) -> list[Outcome]:
        """What one message means; never raises but for MemoryError (and what is no Exception)."""
        route = self._routes.get(topic)
        if route is None:
            return self._unbound(topic)
        try:
            check_size(payload, self._limit)  # here, before any handler reads it
            handler, bound = route
            return handler(bound, payload, received_ms)
        except DecodeError as error:
            return rejections(self._meters(topic), error)
        except MemoryError:
            raise
        except Exception as exc:
            return self._internal(topic, exc)

    def concerns_meters(self, topic: str) -> bool:
        """Whether messages on `topic` concern some meter (its readings or its availability);
        False for a known device's companion topics (a Tasmota's `STATE`, an mbmd `Power` no
        meter bills on), whose messages give no outcome by design."""
        return topic in self._routes and bool(self._meters(topic))

    def topics(self) -> list[str]:
        """Every exact topic with a handler, sorted (for diagnostics and subscription checks)."""
        return sorted(self._routes)

    def add(self, topic: str, handler: Handler, meters: list[str]) -> None:
        """For the formats' `bind` (see `formats.RouterBuilder`)."""
        self._claim(topic, meters)
        self._routes[topic] = (_plain, handler)
        self._concerns[topic] = meters

    def observes(self, topic: str, observe: Observer) -> None:
        """For the formats' `bind` (see `formats.RouterBuilder`)."""
        self._observers[topic] = observe

    def reads_kept(self, topic: str) -> None:
        """For the formats' `bind` (see `formats.RouterBuilder`)."""
        self._reading_state.add(topic)

    def add_targets(self, topic: str, handler: TargetsHandler, targets: Targets) -> None:
        """For the formats' `bind` (see `formats.RouterBuilder`)."""
        self._claim(topic, [target.meter for target in targets])
        self._routes[topic] = (handler, targets)

    def _claim(self, topic: str, meters: list[str]) -> None:
        if topic in self._routes:
            raise ValueError(f"topic {topic!r} is claimed twice (two formats, or two devices)")
        if topic_size(topic) > MAX_TOPIC_BYTES:
            raise ValueError(
                f"topic {topic[:60]!r}... is longer than {MAX_TOPIC_BYTES} bytes (meters: "
                f"{', '.join(meters) or 'none'})"
            )

    def _meters(self, topic: str) -> list[str]:
        """The meters a bound topic's messages concern."""
        meters = self._concerns.get(topic)
        if meters is not None:
            return meters
        targets: Targets = self._routes[topic][1]
        return [target.meter for target in targets]

    def add_device(self, prefix: str) -> None:
        self._devices.add(prefix)

    def _unbound(self, topic: str) -> list[Outcome]:
        if topic_size(topic) <= MAX_TOPIC_BYTES and self._below_device(topic):
            return []
        return [Rejection(RejectReason.UNKNOWN_METER, f"no meter on topic {topic[:200]!r}")]

    def _internal(self, topic: str, exc: Exception) -> list[Outcome]:
        """The first failure of each kind is logged with its traceback, the rest counted."""
        if type(exc) not in self._logged:
            self._logged.add(type(exc))
            log.error("a message on %r broke its decoder", topic[:200], exc_info=exc)
        detail = f"{type(exc).__name__}: {_message(exc)}"
        meters = self._meters(topic)
        if not meters:
            return [Rejection(RejectReason.INTERNAL, detail)]
        return [Rejection(RejectReason.INTERNAL, detail, meter) for meter in meters]

    def _below_device(self, topic: str) -> bool:
        while True:
            topic, slash, _ = topic.rpartition("/")
            if not slash:
                return False
            if topic in self._devices:
                return True


def _plain(handler: Handler, payload: bytes, received_ms: int) -> list[Outcome]:
    """An `add`ed topic's handler, called as the router calls them all."""
    return handler(payload, received_ms)


def _message(exc: Exception) -> str:
    """The exception's message, short and storable as text (no lone surrogates)."""
    try:
        text = str(exc)
    except Exception:
        return "(no message)"
    return text[:200].encode("utf-8", "backslashreplace").decode("utf-8")
