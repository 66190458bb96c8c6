"""The engine: applies batches of readings and sweeps to every meter and keeps the ledger rows.

Rows are what the ledger stores: consecutive pieces of one meter with the same basis and reason
inside one clock hour (and one rate step) are one row, so the ledger grows with meters x hours,
not with messages. The last row of each meter stays open for extension.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from levy.core.blind import Blindness
from levy.core.calendar import Calendar
from levy.core.model import (
    Basis,
    DeemedReason,
    Interval,
    Reading,
    Rejection,
    RejectReason,
    Role,
    Supply,
    from_fields,
)
from levy.core.rates import RateSchedule
from levy.core.rules import (
    MeterSpec,
    MeterState,
    Rules,
    apply_reading,
    initial_state,
    on_receive_clock,
    screen,
    sweep,
)
from levy.core.split import bucket_start, next_cut, split

_received_ms = attrgetter("received_ms")
_meter_and_time = attrgetter("meter", "ts_ms")
"""`reading_order` where no two readings of a meter share an instant (the rest of it then
never decides), made without a Python call a reading."""
INSTANTS_KEPT = 10_000


class FrozenPeriodError(Exception):
    """An interval would land inside a closed period: closed figures never change."""


class Row(NamedTuple):
    """A stored interval, with what it was billed as: the record does not move when the
    configuration changes later."""

    meter: str
    start_ms: int
    end_ms: int
    reason: DeemedReason | None
    """Why the row was deemed; None when it was metered."""
    energy_mj: int
    supply: Supply
    rated_w: int
    rate: Decimal
    """Tenge per kWh of the row's supply under the rate step in force."""
    role: Role = Role.BILLED
    """A site_main row is measured, never billed."""

    @property
    def basis(self) -> Basis:
        return Basis.METERED if self.reason is None else Basis.DEEMED


new_row = from_fields(Row)


class TotalKey(NamedTuple):
    """A per-bucket total: a bucket is the part of a month under one rate step, named by its
    start. Reports sum these instead of every row."""

    meter: str
    reason: DeemedReason | None
    """None for metered energy."""
    bucket_ms: int
    supply: Supply
    rated_w: int
    rate: Decimal
    role: Role = Role.BILLED


new_total = from_fields(TotalKey)


@dataclass(slots=True)
class Changes:
    """What one batch did, to be committed in one transaction."""

    rows: dict[tuple[str, int], Row] = field(default_factory=dict)
    states: dict[str, MeterState] = field(default_factory=dict)
    rejections: list[tuple[Reading, Rejection]] = field(default_factory=list)
    totals: dict[TotalKey, int] = field(default_factory=dict)
    """Energy added per bucket total."""
    accepted: int = 0
    clock_ms: int = 0
    blind_closed: list[tuple[int, int]] = field(default_factory=list)
    """Blind spans that ended in this batch (rule 6)."""
    blind_since: int | None = None
    blind_changed: bool = False
    """Whether `blind_since` (the open blind span's start, or None) is to be stored."""


class RowBounds(NamedTuple):
    """What an open row's start decides, kept while the row grows."""

    start_ms: int
    cut_ms: int
    """Where the row must end: the next hour or rate change."""
    total: TotalKey
    """The per-bucket total its energy adds to."""


new_bounds = from_fields(RowBounds)


def row_bounds(
    row: Row, calendar: Calendar, rates: RateSchedule, instants: dict[int, object]
) -> RowBounds:
    """`instants` keeps one copy of each bucket start and cut: every meter's open row shares
    its hour's (100,000 integers of each at a large site, not one). The row's own fields are
    taken as they are (`shared`), not read as integers."""
    fields = shared(row)
    bucket = bucket_start(calendar, rates, row.start_ms)
    cut = next_cut(calendar, rates, row.start_ms)
    # Row: meter, start, end, reason, energy, then supply, rated_w, rate and role as in a total
    total = new_total((fields[0], fields[3], instants.setdefault(bucket, bucket), *fields[5:]))
    return new_bounds((fields[1], instants.setdefault(cut, cut), total))


def shared(record: tuple[object, ...]) -> tuple[object, ...]:
    """A record's fields as the objects it holds. Compiled (setup.py), an integer read from a
    typed field is unboxed, and a new object is made each time it is stored again: a record
    built from another's fields read this way shares them, as it does in plain Python (at
    100,000 meters, 32 bytes an integer a meter)."""
    return record


def reading_order(reading: Reading) -> tuple:
    """A total order on one batch, so the order of delivery inside a batch never matters.
    At one instant a fault comes before a value, so the value ends the fault; of two registers
    at one instant the higher comes first and is the one kept (the rest are repeats), since a
    register only grows: a burst stamped with one delivery millisecond keeps its latest value."""
    return (
        reading.meter,
        reading.ts_ms,
        not reading.fault,
        -reading.energy_mj if reading.energy_mj is not None else 1,
        reading.power_mw if reading.power_mw is not None else -1,
        reading.received_ms,
    )


def resumed(spec: MeterSpec, stored: MeterState | None) -> MeterState:
    """A meter's state as the ledger kept it. Pinning `measure` to something else than what the
    meter has been billed on starts it afresh: the old baseline is in the other unit."""
    if stored is None:
        return initial_state(spec)
    if spec.measure is None or stored.measure is spec.measure:
        return stored
    if stored.measure is None:
        return stored._replace(measure=spec.measure)
    return stored._replace(baseline=None, measure=spec.measure)


class Engine:
    def __init__(
        self,
        specs: Mapping[str, MeterSpec],
        rules: Rules,
        calendar: Calendar,
        rates: RateSchedule,
        states: Mapping[str, MeterState] | None = None,
        open_rows: Mapping[str, Row] | None = None,
        clock_ms: int = 0,
        frozen_until_ms: int | None = None,
        blindness: Blindness | None = None,
    ) -> None:
        self.specs = dict(specs)
        self.rules = rules
        self.calendar = calendar
        self.rates = rates
        self.states = {m: resumed(s, (states or {}).get(m)) for m, s in self.specs.items()}
        self.open_rows = dict(open_rows or {})
        self._bounds: dict[str, RowBounds] = {}
        self._instants: dict[int, object] = {}
        """The bounds' instants, one copy of each (see `row_bounds`)."""
        self.clock_ms = clock_ms
        self.frozen_until_ms = frozen_until_ms
        self.blindness = blindness or Blindness()
        for meter, state in self.states.items():
            if self.frozen_until_ms is not None and state.accrued_ms < self.due_ms(
                meter, self.frozen_until_ms
            ):
                raise FrozenPeriodError(
                    f"meter {meter} is accounted only to {calendar.iso(state.accrued_ms)}, "
                    f"inside a closed period (closed to {calendar.iso(self.frozen_until_ms)})"
                )

    def apply(
        self, readings: Iterable[Reading], now_ms: int | None = None, into: Changes | None = None
    ) -> Changes:
        """Apply a batch in canonical order, then sweep at `now_ms` if given. Its changes are
        added to `into` if given, as if the batches before were one with it (a replay commits
        many together), else they are a new `Changes`."""
        changes = Changes() if into is None else into
        received = list(readings)
        rules = self.rules
        timed = [on_receive_clock(rules, reading) for reading in received]
        keys = list(map(_meter_and_time, timed))
        if len(set(keys)) < len(keys):  # a meter read twice at one instant: the whole order
            keys = list(map(reading_order, timed))
        if received:  # no rule reads the clock while a batch is applied
            self.clock_ms = max(self.clock_ms, *map(_received_ms, received))
        apply_one = self._apply_one
        # Positions are sorted, not pairs: each reading stays beside the object handed in.
        for index in sorted(range(len(timed)), key=keys.__getitem__):
            apply_one(timed[index], received[index], changes)
        if now_ms is not None:
            self.sweep(now_ms, changes)
        changes.clock_ms = self.clock_ms
        return changes

    def sweep(self, now_ms: int, changes: Changes) -> None:
        """Only the meters it deems are changed: a sweep that finds every meter reporting
        leaves nothing for the ledger to reseal (the daemon sweeps 100,000 meters a minute)."""
        self.clock_ms = max(self.clock_ms, now_ms)
        states = self.states
        for meter, spec in self.specs.items():
            state, interval = sweep(spec, self.rules, states[meter], now_ms, self.blindness)
            if interval is not None:
                self._record(meter, spec, state, interval, changes)

    def advance_clock(self, now_ms: int) -> None:
        self.clock_ms = max(self.clock_ms, now_ms)

    def go_blind(self, at_ms: int) -> Changes:
        """The daemon stopped seeing its meters at `at_ms` (down, disconnected)."""
        changes = Changes(clock_ms=self.clock_ms)
        if self.blindness.begin(at_ms):
            changes.blind_since, changes.blind_changed = self.blindness.since_ms, True
        return changes

    def see_again(self, at_ms: int) -> Changes:
        """The daemon has read the backlog its broker kept: it sees its meters from `at_ms`."""
        self.advance_clock(at_ms)
        changes = Changes(clock_ms=self.clock_ms)
        span = self.blindness.end(at_ms)
        if span is not None:
            changes.blind_closed.append(span)
            changes.blind_changed = True
        return changes

    def _apply_one(self, reading: Reading, as_received: Reading, changes: Changes) -> None:
        """`reading` with its time as rule 1 counts it; a rejection names `as_received`, the
        object the caller handed in."""
        spec = self.specs.get(reading.meter)
        if spec is None:
            unknown = Rejection(RejectReason.UNKNOWN_METER, "not configured", reading.meter)
            changes.rejections.append((as_received, unknown))
            return
        state = self.states[reading.meter]
        rejection = screen(spec, self.rules, state, reading)
        if rejection is not None:
            changes.rejections.append((as_received, rejection))
            return
        changes.accepted += 1
        new_state, interval = apply_reading(spec, self.rules, state, reading, self.blindness)
        self._record(reading.meter, spec, new_state, interval, changes)

    def _record(
        self,
        meter: str,
        spec: MeterSpec,
        state: MeterState,
        interval: Interval | None,
        changes: Changes,
    ) -> None:
        self.states[meter] = state
        changes.states[meter] = state
        if interval is None:
            return
        row = self.open_rows.get(meter)
        # Rule 8's pieces: an interval that only extends the open row within its hour (the usual
        # reading) is one piece, known from the row's cached bounds without a calendar.
        bounds = None if row is None or row.end_ms != interval.start_ms else self._bounds_of(row)
        if bounds is not None and interval.end_ms <= bounds.cut_ms:
            pieces = [interval]
        else:
            pieces, bounds = split(interval, self.calendar, self.rates), None
        for piece in pieces:
            row, total = self._extend(row, piece, spec, bounds)
            bounds = None
            self.open_rows[meter] = row
            changes.rows[(meter, row.start_ms)] = row
            changes.totals[total] = changes.totals.get(total, 0) + piece.energy_mj

    def _extend(
        self, row: Row | None, piece: Interval, spec: MeterSpec, bounds: RowBounds | None = None
    ) -> tuple[Row, TotalKey]:
        """The open `row` (whose `bounds` the caller may know) grown by `piece`, or a new row
        when the basis, the reason, the hour, the rate step or what the meter is billed as
        (supply, rating, role) changes; with the total the piece's energy adds to."""
        if self.frozen_until_ms is not None and piece.start_ms < self.frozen_until_ms:
            raise FrozenPeriodError(
                f"meter {piece.meter}: an interval from {self.calendar.iso(piece.start_ms)} would "
                f"change a closed period (closed to {self.calendar.iso(self.frozen_until_ms)})"
            )
        if row is not None:  # unpacked once: each field of a NamedTuple read is a descriptor call
            meter, start_ms, end_ms, reason, energy_mj, supply, rated_w, rate, role = row
            if (
                end_ms == piece.start_ms
                and reason is piece.reason
                and supply is spec.supply
                and rated_w == spec.rated_w
                and role is spec.role
            ):
                bounds = bounds or self._bounds_of(row)
                if piece.start_ms < bounds.cut_ms:
                    energy_mj += piece.energy_mj
                    grown = (
                        meter,
                        start_ms,
                        piece.end_ms,
                        reason,
                        energy_mj,
                        supply,
                        rated_w,
                        rate,
                        role,
                    )
                    return new_row(grown), bounds.total
        rate = self.rates.step_at(piece.start_ms).per_kwh[spec.supply]
        new = Row(
            piece.meter,
            piece.start_ms,
            piece.end_ms,
            piece.reason,
            piece.energy_mj,
            spec.supply,
            spec.rated_w,
            rate,
            spec.role,
        )
        return new, self._bounds_of(new).total

    def _bounds_of(self, row: Row) -> RowBounds:
        """Where the open row must end, and its total: computed once per row rather than once
        per reading (a row never crosses an hour, a month or a rate change, and grows with
        everything but its end and energy kept)."""
        cached = self._bounds.get(row.meter)
        if cached is None or cached.start_ms != row.start_ms:
            if len(self._instants) > INSTANTS_KEPT:  # a daemon runs for months
                self._instants.clear()
            bounds = row_bounds(row, self.calendar, self.rates, self._instants)
            cached = self._bounds[row.meter] = bounds
        return cached

    def due_ms(self, meter: str, end_ms: int) -> int:
        """How far a meter must be accounted for time up to `end_ms` to be covered: a
        decommissioned meter only to its decommissioning."""
        spec = self.specs[meter]
        return end_ms if spec.end_ms is None else max(min(end_ms, spec.end_ms), spec.start_ms)

    def behind(self, end_ms: int) -> list[str]:
        """The meters not yet accounted as far as `end_ms` requires."""
        return sorted(m for m, s in self.states.items() if s.accrued_ms < self.due_ms(m, end_ms))

    def freeze_until(self, end_ms: int) -> None:
        self.frozen_until_ms = max(self.frozen_until_ms or end_ms, end_ms)
