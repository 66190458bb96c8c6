"""The record does not move: what the configuration may change in a ledger, and what it may not.

Every command checks the configuration against the ledger before it reads or writes: a
`[[rates]]` change that would alter a closed period is refused, naming the step and the period;
a meter with intervals in the ledger must stay configured until it is decommissioned. A writer
then applies what may change: a rate change that only touches open periods re-rates them.
"""

from typing import TYPE_CHECKING

from levy.app.errors import UsageError
from levy.core.rates import RateSchedule, differing_spans
from levy.core.rules import MeterSpec
from levy.ledger.rerate import store_schedule
from levy.ledger.store import Ledger

if TYPE_CHECKING:
    from levy.app.site import Site


def stored_schedule(ledger: Ledger) -> RateSchedule | None:
    steps = ledger.rate_steps()
    return RateSchedule(steps) if steps else None


def rate_change_from(site: "Site", ledger: Ledger) -> int | None:
    """The first instant at which the configured rates differ from the ledger's, or None.
    Refused when the difference reaches into a closed period."""
    stored = stored_schedule(ledger)
    if stored is None:
        return None
    spans = differing_spans(stored, site.rates)
    for start, end in spans:
        for closed in sorted(ledger.closed_periods().values(), key=lambda c: c.start_ms):
            if start < closed.end_ms and (end is None or end > closed.start_ms):
                raise UsageError(
                    f"rates: the [[rates]] step {_step_named(site, start)} would change the "
                    f"closed period {closed.period} (closed figures never change; the ledger "
                    f"billed it at {_rates_in_force(stored, max(start, closed.start_ms))})"
                )
    return spans[0][0] if spans else None


def _step_named(site: "Site", ms: int) -> str:
    step = site.rates.step_at(ms) if ms >= site.rates.boundaries[0] else None
    if step is not None and step.from_ms == ms:
        shown = ", ".join(f"{s.value} {rate}" for s, rate in step.per_kwh.items())
        return f"from {site.calendar.iso(ms)} ({shown})"
    return f"change at {site.calendar.iso(ms)} (a step removed or moved)"


def _rates_in_force(schedule: RateSchedule, ms: int) -> str:
    step = schedule.step_at(ms)
    return ", ".join(f"{s.value} {rate} tenge/kWh" for s, rate in step.per_kwh.items())


def check_meters(ledger: Ledger, configured: set[str]) -> list[str]:
    """A meter the ledger has billed cannot silently leave the configuration; returns the
    unconfigured ones that never billed anything (a writer forgets them)."""
    missing = sorted(ledger.meter_names() - configured)
    billed = ledger.billed_meters() if missing else set()  # a look-up per stored meter
    dropped = [name for name in missing if name in billed]
    if dropped:
        names = ", ".join(dropped[:10]) + (
            f" and {len(dropped) - 10} more" if len(dropped) > 10 else ""
        )
        raise UsageError(
            f"meters: {names} {'has' if len(dropped) == 1 else 'have'} intervals in the ledger "
            "but no entry in the configuration: keep the entry and give it decommissioned_at "
            "(its accounts end there)"
        )
    return missing


def check_record(site: "Site", ledger: Ledger) -> int | None:
    """What every command checks, readers included; returns where a rate change that only
    touches open periods starts (a writer applies it)."""
    ledger.check_binding(site.id, site.calendar.zone.key)
    return rate_change_from(site, ledger)


def apply_configuration(site: "Site", ledger: Ledger, specs: dict[str, MeterSpec]) -> None:
    """What a writer does before it opens the engine: refuse what would move the record,
    re-rate the open periods under a changed schedule, record the meters as configured."""
    ledger.forget_meters(check_meters(ledger, set(specs)))
    apply_rates(site, ledger)
    ledger.register_meters(specs.values())


def apply_rates(site: "Site", ledger: Ledger) -> None:
    """Keep the configured schedule in the ledger (a ledger from schema 1 adopts it), re-rating
    the open periods from where it differs; refused if it would reach a closed one."""
    if stored_schedule(ledger) is None:
        store_schedule(ledger, site.calendar, site.rates, site.rates.boundaries[0])
        return
    changed = rate_change_from(site, ledger)
    if changed is not None:
        store_schedule(ledger, site.calendar, site.rates, changed)
