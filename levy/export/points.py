"""The points of DESIGN.md section 4. Time and tags are functions of what the ledger holds, so a
point sent again (a row that grew, a liability recomputed) overwrites itself. Numbers become
floats only here, from exact values; the ledger stays exact."""

import functools
from decimal import Decimal
from typing import Any

from levy.core.engine import Row
from levy.core.model import Basis, Measure, Supply
from levy.core.rules import MeterState
from levy.core.status import MeterStatus
from levy.core.units import MJ_PER_KWH, MS_PER_S
from levy.export.line import Line
from levy.report.figures import PeriodFigures

ALL_SUPPLIES = "all"


def _point(measurement: str, site: str, time_ms: int) -> Line:
    return Line(measurement, time_ms).tag("site", site)


def interval_point(site: str, row: Row) -> Line:
    """One ledger row: kWh and the fee at its rate, unrounded (each the float nearest the exact
    value: Python divides integers correctly rounded)."""
    numerator, denominator = _ratio(row.rate)
    point = (
        _point("levy_interval", site, row.start_ms)
        .tag("meter", row.meter)
        .tag("supply", row.supply.value)
        .tag("basis", row.basis.value)
    )
    if row.reason is not None:
        point.tag("reason", row.reason.value)
    return (
        point.field("kwh", row.energy_mj / MJ_PER_KWH)
        .field("fee_tenge", row.energy_mj * numerator / (MJ_PER_KWH * denominator))
        .field("rate", numerator / denominator)
        .field("seconds", (row.end_ms - row.start_ms) / MS_PER_S)
    )


@functools.cache
def _ratio(rate: Decimal) -> tuple[int, int]:
    return rate.as_integer_ratio()


def liability_points(figures: PeriodFigures, document: dict[str, Any], at_ms: int) -> list[Line]:
    """A period so far, per supply and for the site, from the report's own document (`document`
    is `render.liability_document(figures)`, the part of `render.to_document(figures)` read
    here), so the figures equal the report's as printed; `at_ms` is the last millisecond
    accounted, and a finished period's point sits at its own last one. While the period is not
    over, each point carries its projection to the period's end."""
    time_ms = min(at_ms, figures.end_ms - 1)
    sections = {**document["by_supply"], ALL_SUPPLIES: document["totals"]}
    projection = document.get("projection")
    projected = {} if projection is None else {**projection["by_supply"], ALL_SUPPLIES: projection}
    points = []
    for supply, section in sections.items():
        point = (
            _point("levy_liability", figures.site, time_ms)
            .tag("supply", supply)
            .tag("period", figures.period.label)
        )
        for name in ("kwh", "metered_kwh", "deemed_kwh", "fee_tenge"):
            point.field(name, float(Decimal(section[name])))
        total, deemed = Decimal(section["kwh"]), Decimal(section["deemed_kwh"])
        point.field("deemed_share", float(deemed / total) if total else 0.0)
        point.field("closed", bool(document["closed"]))
        if supply != ALL_SUPPLIES:
            point.field("rate", float(_rate_at(figures, Supply(supply), time_ms)))
        if supply in projected:
            point.field("projected_kwh", float(Decimal(projected[supply]["kwh"])))
            point.field("projected_fee_tenge", float(Decimal(projected[supply]["fee_tenge"])))
        if "declaration_due" in document:
            point.field("declaration_due", document["declaration_due"])
            point.field("payment_due", document["payment_due"])
        points.append(point)
    return points


def _rate_at(figures: PeriodFigures, supply: Supply, ms: int) -> Decimal:
    """The rate in force at `ms`: the last of the supply's rate lines (in order of their start,
    at least one per period) started by then."""
    lines = figures.lines[supply]
    rate = lines[0].per_kwh
    for line in lines:
        if line.from_ms <= ms:
            rate = line.per_kwh
    return rate


def meter_point(
    site: str,
    meter: str,
    supply: Supply,
    status: MeterStatus,
    state: MeterState,
    open_row: Row | None,
    now_ms: int,
) -> Line:
    """A meter's live state at `now_ms`: status, how long since its last valid reading and since
    it became faulty, and its power and register where the ledger knows them."""
    point = (
        _point("levy_meter", site, now_ms)
        .tag("meter", meter)
        .tag("supply", supply.value)
        .field("status", status.value)
    )
    baseline = state.baseline
    if baseline is not None:
        point.field("age_s", max(0, now_ms - baseline.t_ms) / MS_PER_S)
        if state.measure is Measure.POWER:
            point.field("power_w", baseline.value / 1000)
        else:
            point.field("register_kwh", baseline.value / MJ_PER_KWH)
    if state.faulty_at(now_ms):
        point.field("fault_s", (now_ms - state.faults[0]) / MS_PER_S)
    if (
        state.measure is not Measure.POWER
        and open_row is not None
        and open_row.basis is Basis.METERED
        and open_row.end_ms > open_row.start_ms
    ):
        point.field("power_w", open_row.energy_mj / (open_row.end_ms - open_row.start_ms))
    return point


def export_point(site: str, lag_s: float, pending_rows: int, now_ms: int) -> Line:
    """The daemon's heartbeat: how far the export is behind the ledger."""
    return (
        _point("levy_export", site, now_ms)
        .field("lag_s", float(lag_s))
        .field("pending_rows", float(pending_rows))
    )
