"""Building a period's figures from the ledger: exact sums first, rounding last."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from levy.core.calendar import Calendar, Period, parse_period
from levy.core.model import DeemedReason, Role, Supply
from levy.core.rates import RateSchedule
from levy.ledger.chain import Block
from levy.ledger.invoices import Invoice, read_invoices
from levy.ledger.store import ClosedPeriod, Ledger
from levy.report.rounding import kwh_exact, tenge
from levy.report.runrate import RunRate, measure_run_rate

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
    steps = ledger.rate_steps()
    schedule = RateSchedule(steps) if steps else rates
    meters: dict[MeterKey, MeterFigures] = {}
    references = References(tolerance_pct, invoices=read_invoices(ledger.db, period.month_labels()))
    lines = {supply: _empty_lines(schedule, supply, start, end) for supply in Supply}
    for total in ledger.bucket_totals(start, end):
        if total.role is Role.SITE_MAIN:
            main = references.main_meters.setdefault((total.meter, total.supply), Energy())
            main.add(total.reason, total.energy_mj)
            continue
        month = (calendar.month_label(total.bucket_ms), total.supply)
        references.monthly.setdefault(month, Energy()).add(total.reason, total.energy_mj)
        step = schedule.step_at(total.bucket_ms)
        rate = total.rate if total.rate is not None else step.per_kwh[total.supply]
        line = lines[total.supply].setdefault((step.from_ms, rate), RateLine(step.from_ms, rate))
        line.energy.add(total.reason, total.energy_mj)
        key = (total.meter, total.supply, total.rated_w)
        figures = meters.setdefault(key, MeterFigures(*key))
        figures.energy.add(total.reason, total.energy_mj)
        figures.fee += kwh_exact(total.energy_mj) * Fraction(rate)
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
    coverage_start = max(start, ledger.accounting_start_ms or start)
    closed = ledger.closed_periods()
    months = accounted_months(calendar, period, coverage_start)
    final = all(month in closed for month in months)
    return PeriodFigures(
        site=site,
        period=period,
        timezone=calendar.zone.key,
        start_ms=start,
        end_ms=end,
        coverage_start_ms=coverage_start,
        coverage_end_ms=max(min(end, _accounted(ledger, start, end, coverage_start)), start),
        closed=final,
        meters=meters,
        lines={
            s: sorted(by_rate.values(), key=lambda line: line.from_ms)
            for s, by_rate in lines.items()
        },
        references=references,
        run_rate=None if final else measure_run_rate(ledger, schedule, coverage_start, end),
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


def _empty_lines(
    schedule: RateSchedule, supply: Supply, start: int, end: int
) -> dict[tuple[int, Decimal], RateLine]:
    """A line for every rate in force in the period, billed or not."""
    lines = {}
    for _, _, step in schedule.segments(start, end):
        rate = step.per_kwh[supply]
        lines[(step.from_ms, rate)] = RateLine(step.from_ms, rate)
    return lines


def _accounted(ledger: Ledger, start: int, end: int, nothing_due: int) -> int:
    """How far every meter active in the period is accounted; decommissioned meters that are
    accounted to their end no longer hold it back."""
    active = [m for m in ledger.meters().values() if m.active_in(start, end)]
    pending = [c for c in (m.covered_to() for m in active) if c is not None]
    if pending:
        return min(pending)
    return end if active else nothing_due
