"""Building a period's figures from the ledger: exact sums first, rounding last."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from levy.core.calendar import Calendar, Period
from levy.core.model import Basis, Supply
from levy.core.rates import RateSchedule
from levy.ledger.store import Ledger
from levy.report.rounding import kwh_exact, tenge

DUE_DECLARATION_DAY = 15
DUE_PAYMENT_DAY = 25


@dataclass
class Energy:
    metered_mj: int = 0
    deemed_mj: int = 0

    @property
    def total_mj(self) -> int:
        return self.metered_mj + self.deemed_mj

    def add(self, kind: str, mj: int) -> None:
        if kind == Basis.METERED.value:
            self.metered_mj += mj
        else:
            self.deemed_mj += mj


@dataclass(frozen=True)
class DeemedSpan:
    start_ms: int
    end_ms: int
    reason: str
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


@dataclass
class MeterFigures:
    meter: str
    supply: Supply
    rated_w: int
    energy: Energy = field(default_factory=Energy)
    fee: Fraction = Fraction(0)
    deemed: list[DeemedSpan] = field(default_factory=list)


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
    meters: dict[str, MeterFigures]
    lines: dict[Supply, list[RateLine]]

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
    ledger: Ledger, site: str, calendar: Calendar, rates: RateSchedule, period: Period
) -> PeriodFigures:
    start, end = calendar.period_bounds(period)
    stored = ledger.meters()
    meters = {name: MeterFigures(name, m.supply, m.rated_w) for name, m in stored.items()}
    lines: dict[Supply, list[RateLine]] = {supply: [] for supply in Supply}
    for seg_start, seg_end, step in rates.segments(start, end):
        by_supply = {s: RateLine(step.from_ms, step.per_kwh[s]) for s in Supply}
        for name, kind, mj in ledger.energy_by_meter(seg_start, seg_end):
            figures = meters[name]
            figures.energy.add(kind, mj)
            by_supply[figures.supply].energy.add(kind, mj)
            figures.fee += kwh_exact(mj) * Fraction(step.per_kwh[figures.supply])
        for supply, line in by_supply.items():
            lines[supply].append(line)
    for name, row_start, row_end, reason, mj in ledger.deemed_rows(start, end):
        spans = meters[name].deemed
        if spans and spans[-1].end_ms == row_start and spans[-1].reason == reason:
            last = spans.pop()
            spans.append(DeemedSpan(last.start_ms, row_end, reason, last.energy_mj + mj))
        else:
            spans.append(DeemedSpan(row_start, row_end, reason, mj))
    accounting_start = ledger.accounting_start_ms or start
    states, _ = ledger.states()
    accounted = min((s.accrued_ms for s in states.values()), default=accounting_start)
    closed = ledger.closed_periods()
    return PeriodFigures(
        site=site,
        period=period,
        timezone=calendar.zone.key,
        start_ms=start,
        end_ms=end,
        coverage_start_ms=max(start, accounting_start),
        coverage_end_ms=max(min(end, accounted), start),
        closed=all(month in closed for month in period.month_labels()),
        meters=meters,
        lines=lines,
    )
