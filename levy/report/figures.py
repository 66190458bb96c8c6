"""Building a period's figures from the ledger: exact sums first, rounding last."""

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from levy.core.calendar import Calendar, Period, parse_period
from levy.core.model import DeemedReason, Role, Supply
from levy.core.rates import RateSchedule
from levy.ledger.chain import Block
from levy.ledger.invoices import Invoice, read_invoices
from levy.ledger.store import ClosedPeriod, Ledger, StoredMeter
from levy.ledger.window import billed_energy
from levy.report.rounding import kwh_exact, tenge
from levy.report.runrate import BilledEnergy, RunRate, measure_run_rate

DUE_DECLARATION_DAY = 15
DUE_PAYMENT_DAY = 25
DEFAULT_TOLERANCE_PCT = Decimal(2)


@dataclass
class Energy:
    metered_mj: int = 0
    deemed_mj: int = 0

    @property
    def total_mj(self) -> int:
        return self.metered_mj + self.deemed_mj

    def add(self, reason: DeemedReason | None, mj: int) -> None:
        """Energy deemed for `reason`, or metered (None)."""
        if reason is None:
            self.metered_mj += mj
        else:
            self.deemed_mj += mj


@dataclass(frozen=True)
class DeemedSpan:
    start_ms: int
    end_ms: int
    reason: DeemedReason
    energy_mj: int


@dataclass
class RateLine:
    """One rate in force during the period for one supply: the line a declaration shows."""

    from_ms: int
    per_kwh: Decimal
    energy: Energy = field(default_factory=Energy)

    @property
    def fee(self) -> Fraction:
        return kwh_exact(self.energy.total_mj) * Fraction(self.per_kwh)


MeterKey = tuple[str, Supply, int]
"""A meter as it was billed: its id, supply and rated W. A meter whose supply or rating changed
inside the period has one entry per configuration it was billed under."""


@dataclass
class MeterFigures:
    meter: str
    supply: Supply
    rated_w: int
    energy: Energy = field(default_factory=Energy)
    fee: Fraction = Fraction(0)
    deemed: list[DeemedSpan] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """What proves the figures (levy/ledger/chain.py): the chain head they were read at, and
    the close records of the period's closed months."""

    head: Block | None = None
    closes: list[ClosedPeriod] = field(default_factory=list)


@dataclass
class References:
    """What the billed figure is reconciled against: none of it is billed or filed."""

    tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT
    main_meters: dict[tuple[str, Supply], Energy] = field(default_factory=dict)
    """The site_main meters' energy, by meter and supply."""
    monthly: dict[tuple[str, Supply], Energy] = field(default_factory=dict)
    """The billed energy of each month of the period, by supply: an invoice is for a month."""
    invoices: list[Invoice] = field(default_factory=list)
    """The entries for the period's months, in the order entered."""


@dataclass
class PeriodFigures:
    site: str
    period: Period
    timezone: str
    start_ms: int
    end_ms: int
    coverage_start_ms: int
    coverage_end_ms: int
    closed: bool
    meters: dict[MeterKey, MeterFigures]
    """The billed meters: site_main meters are in `references`."""
    lines: dict[Supply, list[RateLine]]
    references: References = field(default_factory=References)
    run_rate: RunRate | None = None
    """Set while the period is not over at the ledger clock."""
    evidence: Evidence = field(default_factory=Evidence)

    def supply_fee(self, supply: Supply) -> Decimal:
        """The sum of the rate lines, each rounded to the tiyn: what a declaration shows."""
        return sum((tenge(line.fee) for line in self.lines[supply]), Decimal("0.00"))

    def supply_energy(self, supply: Supply) -> Energy:
        total = Energy()
        for line in self.lines[supply]:
            total.metered_mj += line.energy.metered_mj
            total.deemed_mj += line.energy.deemed_mj
        return total


def due_dates(period: Period) -> tuple[date, date]:
    """Quarterly filing: the declaration by the 15th and the payment by the 25th of the second
    month after the quarter."""
    month = period.first_month + period.months - 1 + 2
    year = period.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, DUE_DECLARATION_DAY), date(year, month, DUE_PAYMENT_DAY)


def build_figures(
    ledger: Ledger,
    site: str,
    calendar: Calendar,
    rates: RateSchedule,
    period: Period,
    deemed_spans: bool = True,
    tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT,
) -> PeriodFigures:
    """The period's figures from the ledger alone: every total carries the supply, rating, rate
    and role it was billed at. `rates` only names the rate lines of a ledger from schema 1 that
    no writer has re-rated yet. Without `deemed_spans` the figures come from the per-bucket
    totals alone (the live gauges and liabilities need no list of deemed intervals)."""
    start, end = calendar.period_bounds(period)
    schedule = _schedule(ledger, rates)
    meters: dict[MeterKey, MeterFigures] = {}
    references = References(tolerance_pct, invoices=read_invoices(ledger.db, period.month_labels()))
    lines = _empty_lines(schedule, start, end)
    for total in ledger.bucket_totals(start, end):
        if total.role is Role.SITE_MAIN:
            main = references.main_meters.setdefault((total.meter, total.supply), Energy())
            main.add(total.reason, total.energy_mj)
            continue
        month = (calendar.month_label(total.bucket_ms), total.supply)
        references.monthly.setdefault(month, Energy()).add(total.reason, total.energy_mj)
        line = _rate_line(lines, schedule, total.bucket_ms, total.supply, total.rate)
        line.energy.add(total.reason, total.energy_mj)
        key = (total.meter, total.supply, total.rated_w)
        figures = meters.setdefault(key, MeterFigures(*key))
        figures.energy.add(total.reason, total.energy_mj)
        figures.fee += kwh_exact(total.energy_mj) * Fraction(line.per_kwh)
    for row in ledger.deemed_rows(start, end) if deemed_spans else ():
        if row.role is Role.SITE_MAIN:
            continue
        spans = meters[(row.meter, row.supply, row.rated_w)].deemed
        if spans and spans[-1].end_ms == row.start_ms and spans[-1].reason == row.reason:
            last = spans.pop()
            spans.append(
                DeemedSpan(last.start_ms, row.end_ms, row.reason, last.energy_mj + row.energy_mj)
            )
        else:
            spans.append(DeemedSpan(row.start_ms, row.end_ms, row.reason, row.energy_mj))
    billed = functools.partial(billed_energy, ledger.db)
    return _period_figures(
        ledger, site, calendar, period, schedule, lines, meters, references, ledger.meters(), billed
    )


BucketKey = tuple[int, Supply, Decimal | None, DeemedReason | None]
"""A bucket, supply, rate and reason (None: metered): what a rate line's energy is summed by."""


def build_supply_figures(
    ledger: Ledger, site: str, calendar: Calendar, rates: RateSchedule, periods: Sequence[Period]
) -> list[PeriodFigures]:
    """The periods' figures without meters, references or deemed spans, from one read of their
    totals (a month and its quarter read the quarter once): the supplies' rate lines are all
    the live liabilities print, so the totals are summed per bucket, supply, rate and reason
    first, as plain integers, and only those sums reach the rate lines."""
    if not periods:
        return []
    bounds = [calendar.period_bounds(period) for period in periods]
    summed = _summed(ledger, min(start for start, _ in bounds), max(end for _, end in bounds))
    schedule = _schedule(ledger, rates)
    stored = ledger.meters()
    billed = functools.cache(functools.partial(billed_energy, ledger.db))
    figures = []
    for period, (start, end) in zip(periods, bounds, strict=True):
        lines = _empty_lines(schedule, start, end)
        for (bucket_ms, supply, rate, reason), mj in summed.items():
            if start <= bucket_ms < end:
                _rate_line(lines, schedule, bucket_ms, supply, rate).energy.add(reason, mj)
        figures.append(
            _period_figures(
                ledger, site, calendar, period, schedule, lines, {}, References(), stored, billed
            )
        )
    return figures


def _summed(ledger: Ledger, start: int, end: int) -> dict[BucketKey, int]:
    """The billed totals of the buckets in [start, end), summed per key in the order each key
    is first read (the order `build_figures` meets them in)."""
    summed: defaultdict[BucketKey, int] = defaultdict(int)
    for total in ledger.bucket_totals(start, end):
        if total.role is not Role.SITE_MAIN:
            summed[total.bucket_ms, total.supply, total.rate, total.reason] += total.energy_mj
    return summed


def _schedule(ledger: Ledger, rates: RateSchedule) -> RateSchedule:
    """The ledger's own schedule; `rates` only for a schema-1 ledger no writer has re-rated."""
    steps = ledger.rate_steps()
    return RateSchedule(steps) if steps else rates


RateLines = dict[Supply, dict[tuple[int, Decimal], RateLine]]


def _rate_line(
    lines: RateLines, schedule: RateSchedule, bucket_ms: int, supply: Supply, rate: Decimal | None
) -> RateLine:
    """The line a bucket's total is billed on: its step, at the rate it carries (the step's
    own rate for a row of a schema-1 ledger not yet rated)."""
    step = schedule.step_at(bucket_ms)
    per_kwh = rate if rate is not None else step.per_kwh[supply]
    return lines[supply].setdefault((step.from_ms, per_kwh), RateLine(step.from_ms, per_kwh))


def _period_figures(
    ledger: Ledger,
    site: str,
    calendar: Calendar,
    period: Period,
    schedule: RateSchedule,
    lines: RateLines,
    meters: dict[MeterKey, MeterFigures],
    references: References,
    stored: Mapping[str, StoredMeter],
    billed: BilledEnergy,
) -> PeriodFigures:
    """The figures around their sums: coverage, whether final, the run rate and the evidence."""
    start, end = calendar.period_bounds(period)
    coverage_start = max(start, ledger.accounting_start_ms or start)
    closed = ledger.closed_periods()
    months = accounted_months(calendar, period, coverage_start)
    final = all(month in closed for month in months)
    accounted = _accounted(stored, start, end, coverage_start)
    return PeriodFigures(
        site=site,
        period=period,
        timezone=calendar.zone.key,
        start_ms=start,
        end_ms=end,
        coverage_start_ms=coverage_start,
        coverage_end_ms=max(min(end, accounted), start),
        closed=final,
        meters=meters,
        lines={
            s: sorted(by_rate.values(), key=lambda line: line.from_ms)
            for s, by_rate in lines.items()
        },
        references=references,
        run_rate=None if final else measure_run_rate(ledger, schedule, coverage_start, end, billed),
        evidence=Evidence(ledger.chain_head(), [closed[m] for m in months if m in closed]),
    )


def accounted_months(calendar: Calendar, period: Period, coverage_start_ms: int) -> list[str]:
    """The months of a period that its coverage reaches: a quarter that began before the
    ledger's accounting start is closed once its months after the start are (the months before
    it have nothing to close)."""
    months = [
        month
        for month in period.month_labels()
        if calendar.period_bounds(parse_period(month))[1] > coverage_start_ms
    ]
    return months or period.month_labels()


def _empty_lines(schedule: RateSchedule, start: int, end: int) -> RateLines:
    """A line for every rate in force in the period, per supply, billed or not."""
    lines: RateLines = {supply: {} for supply in Supply}
    for _, _, step in schedule.segments(start, end):
        for supply, by_rate in lines.items():
            rate = step.per_kwh[supply]
            by_rate[(step.from_ms, rate)] = RateLine(step.from_ms, rate)
    return lines


def _accounted(stored: Mapping[str, StoredMeter], start: int, end: int, nothing_due: int) -> int:
    """How far every meter active in the period is accounted; decommissioned meters that are
    accounted to their end no longer hold it back."""
    active = [m for m in stored.values() if m.active_in(start, end)]
    pending = [c for c in (m.covered_to() for m in active) if c is not None]
    if pending:
        return min(pending)
    return end if active else nothing_due
