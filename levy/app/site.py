"""A configured site turned into the core's objects: specs, rules, calendar, rates, engine."""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from levy.app.errors import UsageError
from levy.app.record import apply_configuration
from levy.config import SiteConfig
from levy.core.calendar import Calendar
from levy.core.engine import Engine
from levy.core.model import Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.rules import MeterSpec, Rules
from levy.core.units import MS_PER_S, datetime_to_ms, kw_to_w
from levy.ledger.store import Ledger


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    calendar: Calendar
    rates: RateSchedule
    rules: Rules

    @classmethod
    def from_config(cls, config: SiteConfig) -> "Site":
        steps = [
            RateStep(
                datetime_to_ms(rate.from_),
                {Supply.GRID: rate.grid, Supply.OFF_GRID: rate.off_grid},
            )
            for rate in config.rates
        ]
        rules = Rules(
            stale_after_ms=config.rules.stale_after_s * MS_PER_S,
            implausible_factor=Fraction(config.rules.implausible_factor),
            max_clock_skew_ms=config.rules.max_clock_skew_s * MS_PER_S,
        )
        return cls(config, Calendar(config.zone), RateSchedule(steps), rules)

    @property
    def id(self) -> str:
        return self.config.site.id

    def configured_start_ms(self) -> int | None:
        start = self.config.ledger.accounting_start
        return datetime_to_ms(start) if start is not None else None

    def specs(self, accounting_start_ms: int) -> dict[str, MeterSpec]:
        specs = {}
        watts: dict[Decimal, int] = {}  # each rating converted once
        for meter in self.config.meters:
            commissioned = meter.commissioned_at
            start = accounting_start_ms
            if commissioned is not None:
                start = max(start, datetime_to_ms(commissioned))
            end = meter.decommissioned_at
            rated_w = watts.get(meter.rated_kw)
            if rated_w is None:
                rated_w = watts[meter.rated_kw] = kw_to_w(meter.rated_kw)
            specs[meter.id] = MeterSpec(
                meter.id,
                rated_w,
                Supply(meter.supply),
                meter.measure,
                start,
                None if end is None else datetime_to_ms(end),
                meter.role,
            )
        return specs

    def open_engine(self, ledger: Ledger, accounting_start_ms: int | None) -> Engine:
        """Bind the ledger to this site, record the meters and load the engine from the ledger."""
        if accounting_start_ms is None:
            accounting_start_ms = self.configured_start_ms()
        start = ledger.bind_site(self.id, accounting_start_ms, self.calendar.zone.key)
        if start < self.rates.boundaries[0]:
            raise UsageError(
                f"the accounting start {self.calendar.iso(start)} is before the first levy rate "
                f"({self.calendar.iso(self.rates.boundaries[0])})"
            )
        specs = self.specs(start)
        apply_configuration(self, ledger, specs)
        states, open_rows = ledger.states()
        return Engine(
            specs,
            self.rules,
            self.calendar,
            self.rates,
            states=states,  # the engine takes the configured meters' (no copy of 100,000)
            open_rows=open_rows,
            clock_ms=ledger.clock_ms,
            frozen_until_ms=ledger.frozen_until_ms(),
            blindness=ledger.blindness(),
        )
