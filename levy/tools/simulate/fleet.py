"""The simulated fleet: rigs drawing a steady load, the registers that count it, the schedule of
readings, and the faults injected on demand.

Exactness. Power is drawn in whole milliwatts (the core's power unit) and the energy of each step
between two readings is the trapezoid of the two powers, rounded once to 1E-8 kWh (36 mJ, the
finest step the core holds exactly). The register and the ground truth are sums of those
steps, so both are exact Decimals, and the levy's metered energy for a register meter must equal
the truth to the millijoule. Power-only meters are billed by the core's own trapezoid, which
may differ from the truth by the rounding of each step.

Determinism. Each device draws from two generators seeded from `(seed, format, topic)`: one for
its load, one for its faults. A rig's load therefore does not depend on the other meters, on
their order, or on which faults were asked for, so a faulty run and a clean one consume the same.
"""

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from collector import formats
from collector.formats import Channel, Frame, Garble
from levy.config.meters import MeterConfig
from levy.config.records import Meter, meter_records
from levy.core.model import Measure
from levy.core.units import MJ_PER_KWH

MIXED = "mixed"
"""`--format mixed`: meters take the formats in turn."""
LOAD_LOW, LOAD_HIGH = 6000, 9500
"""A rig's steady load, in ten-thousandths of its rated power."""
NOISE = 100
"""How far one reading's load strays from the steady load: up to 1% of rated power."""
SPIKE_FACTOR = 10
"""A spike adds this many times the rated energy of one interval: implausible by far."""
REGISTER_STEP = Decimal("1E-8")
POWER_STEP = Decimal("0.001")


class Event(StrEnum):
    """What happened to a device at one scheduled reading.

    `gap` starts a silence of `FaultPlan.gap_ms`; `silent` is a reading withheld by a gap (its
    first one included), so the readings scheduled are the sum of every kind but `gap`.
    """

    NORMAL = "normal"
    GAP = "gap"
    SILENT = "silent"
    FAULT = "fault"
    RESET = "reset"
    SPIKE = "spike"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Probabilities per reading (at most one event per reading, so they sum to 1 at most)."""

    gap: float = 0.0
    fault: float = 0.0
    reset: float = 0.0
    spike: float = 0.0
    malformed: float = 0.0
    gap_ms: int = 1_200_000
    only: frozenset[str] | None = None
    """The meters faults may strike (a device is struck when any of its meters is named)."""

    def __post_init__(self) -> None:
        rates = self._rates()
        if any(not 0 <= rate <= 1 for _, rate in rates):
            raise ValueError("fault rates are probabilities, from 0 to 1")
        if sum(rate for _, rate in rates) > 1:
            raise ValueError("fault rates add up to more than 1: a reading has one fate at most")

    def strikes(self, meters: Iterable[str]) -> bool:
        return self.only is None or not self.only.isdisjoint(meters)

    def draw(self, rng: random.Random) -> Event:
        """One uniform draw per reading, so the stream of draws never depends on the outcome."""
        point = rng.random()
        for event, rate in self._rates():
            if point < rate:
                return event
            point -= rate
        return Event.NORMAL

    def _rates(self) -> tuple[tuple[Event, float], ...]:
        return (
            (Event.GAP, self.gap),
            (Event.FAULT, self.fault),
            (Event.RESET, self.reset),
            (Event.SPIKE, self.spike),
            (Event.MALFORMED, self.malformed),
        )


def synthetic_meters(count: int, fmt: str, rated_kw: Decimal, prefix: str) -> list[Meter]:
    """`rig-0001`... below `prefix` where each format puts its synthetic meters, in one format
    or, for `mixed`, each built-in format in turn. Every simulated device sends a register, so
    they bill on energy."""
    names = formats.BUILT_IN if fmt == MIXED else (fmt,)
    width = max(4, len(str(count)))
    meters = []
    for number in range(1, count + 1):
        meter_id = f"rig-{number:0{width}d}"
        each = names[(number - 1) % len(names)]
        entry = {"id": meter_id, "format": each, "rated_kw": rated_kw, "measure": Measure.ENERGY}
        entry |= formats.get(each).synthetic(prefix, meter_id)
        meters.append(MeterConfig.model_validate(entry))
    return meter_records(meters)


class Rig:
    """One meter and the load it measures: a steady share of rated power with a little noise,
    its power changing linearly from one reading to the next."""

    def __init__(self, meter: Meter, rng: random.Random) -> None:
        self.meter = meter
        self._rated_w = meter.rated_kw * 1000
        self._share = rng.randint(LOAD_LOW, LOAD_HIGH)
        self.register_kwh = (
            Decimal(rng.randint(100_000, 50_000_000)).scaleb(-3).quantize(REGISTER_STEP)
        )
        self.power_w = self._draw_power(rng)
        self.consumed_kwh = Decimal(0)
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.events: Counter[Event] = Counter()

    def advance(self, ts_ms: int, rng: random.Random) -> None:
        """Run the load up to `ts_ms` (the first call only starts the count)."""
        if self.last_ms is None:
            self.first_ms = ts_ms
        else:
            power = self._draw_power(rng)
            step = _kwh((self.power_w + power) * (ts_ms - self.last_ms) / 2)
            self.register_kwh += step
            self.consumed_kwh += step
            self.power_w = power
        self.last_ms = ts_ms

    def spike_kwh(self, interval_ms: int) -> Decimal:
        return _kwh(self._rated_w * interval_ms * SPIKE_FACTOR)

    def spike_power_w(self) -> Decimal:
        return self._rated_w * SPIKE_FACTOR

    def _draw_power(self, rng: random.Random) -> Decimal:
        share = min(max(self._share + rng.randint(-NOISE, NOISE), LOAD_LOW), LOAD_HIGH)
        return (self._rated_w * share / 10_000).quantize(POWER_STEP, ROUND_HALF_EVEN)


def _kwh(watt_ms: Decimal) -> Decimal:
    """W x ms is mJ; to kWh on the register's step."""
    return (watt_ms / MJ_PER_KWH).quantize(REGISTER_STEP, ROUND_HALF_EVEN)


class Device:
    """What publishes on one topic (or topic prefix): one or more rigs, read together."""

    def __init__(self, meters: list[Meter], seed: int, plan: FaultPlan, interval_ms: int) -> None:
        self.format = meters[0].format
        self.topic = meters[0].topic
        self._load = random.Random(f"{seed}/load/{self.format}/{self.topic}")
        self._faults = random.Random(f"{seed}/faults/{self.format}/{self.topic}")
        self.rigs = [Rig(meter, self._load) for meter in meters]
        self._plan = plan
        self._struck = plan.strikes(meter.id for meter in meters)
        self._interval_ms = interval_ms
        self._silent_until_ms: int | None = None

    def tick(self, ts_ms: int) -> tuple[Event, Frame | None]:
        """The reading due at `ts_ms`: what happened, and the frame to publish (None if silent).

        The rigs run whatever happens to the reading: a gap or a garbled payload loses the
        message, not the energy.
        """
        for rig in self.rigs:
            rig.advance(ts_ms, self._load)
        event = self._event(ts_ms)
        for rig in self.rigs:
            rig.events[event] += 1
        if event is Event.GAP:
            self._silent_until_ms = ts_ms + self._plan.gap_ms
            for rig in self.rigs:
                rig.events[Event.SILENT] += 1
        if event in (Event.GAP, Event.SILENT):
            return event, None
        return event, self._frame(ts_ms, event)

    def _event(self, ts_ms: int) -> Event:
        if self._silent_until_ms is not None and ts_ms < self._silent_until_ms:
            return Event.SILENT
        if not self._struck:
            return Event.NORMAL
        event = self._plan.draw(self._faults)
        if event is Event.FAULT and not formats.get(self.format).reports_faults:
            return Event.NORMAL
        return event

    def _frame(self, ts_ms: int, event: Event) -> Frame:
        """Resets and spikes change the register for good (the next readings count on from the
        new value); a spike also shows one absurd power reading."""
        if event is Event.RESET:
            for rig in self.rigs:
                rig.register_kwh = Decimal(0)
        if event is Event.SPIKE:
            for rig in self.rigs:
                rig.register_kwh += rig.spike_kwh(self._interval_ms)
        channels = tuple(
            Channel(
                rig.meter,
                rig.register_kwh,
                rig.spike_power_w() if event is Event.SPIKE else rig.power_w,
            )
            for rig in self.rigs
        )
        garble = self._faults.choice(list(Garble)) if event is Event.MALFORMED else None
        return Frame(self.format, self.topic, ts_ms, channels, event is Event.FAULT, garble)


class Fleet:
    """Every device, and when each reads: the devices spread evenly over each interval."""

    def __init__(
        self, meters: Iterable[Meter], seed: int, plan: FaultPlan, interval_ms: int
    ) -> None:
        self.seed = seed
        self.interval_ms = interval_ms
        self.devices = [
            Device(group, seed, plan, interval_ms) for group in _devices(meters).values()
        ]
        if not self.devices:
            raise ValueError("no meters to simulate")

    @property
    def rigs(self) -> list[Rig]:
        return [rig for device in self.devices for rig in device.rigs]

    def schedule(self, start_ms: int, end_ms: int | None) -> Iterator[tuple[int, Device]]:
        """(due time, device) in time order, up to `end_ms` (excluded) or forever."""
        count = len(self.devices)
        phases = [index * self.interval_ms // count for index in range(count)]
        for round_number in itertools.count():
            round_ms = start_ms + round_number * self.interval_ms
            for phase, device in zip(phases, self.devices, strict=True):
                if end_ms is not None and round_ms + phase >= end_ms:
                    return
                yield round_ms + phase, device


def _devices(meters: Iterable[Meter]) -> dict[tuple[str, str], list[Meter]]:
    """Meters grouped by what publishes for them; ValueError for two meters on one value (the
    same slot of one device: see `DeviceFormat.slot`)."""
    devices: dict[tuple[str, str], list[Meter]] = {}
    for meter in meters:
        fmt = formats.find(meter.format)
        if fmt is None:
            raise ValueError(f"meter {meter.id}: unknown format {meter.format!r}")
        group = devices.setdefault((meter.format, meter.topic), [])
        group.append(meter)
        if len({fmt.slot(each) for each in group}) < len(group):
            raise ValueError(
                f"meter {meter.id}: another meter reads the same value on {meter.topic}"
            )
    return devices
