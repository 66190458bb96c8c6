"""Applying a changed rate schedule to the open part of the ledger.

A `[[rates]]` change re-rates stored kWh from the first instant it differs: rows crossing a new
step are cut there in time proportion (rule 8), every row from then on takes the rate in force,
and the per-bucket totals from that month on are summed anew from the rows. Nothing inside a
closed period may differ: the caller refuses that before calling here.
"""

import sqlite3
from collections.abc import Iterator
from decimal import Decimal

from levy.core.calendar import Calendar
from levy.core.model import Basis, Interval
from levy.core.rates import RateSchedule
from levy.core.split import bucket_start, split
from levy.ledger.items import INTERVALS, METERS, resealing, resealing_binding
from levy.ledger.store import ADD_TO_TOTALS, KIND_CODE, KINDS, SUPPLIES, Ledger

_ROWS = (
    "SELECT start_ms, meter_id, end_ms, kind, energy_mj, supply, rated_w, role FROM intervals"
    " WHERE start_ms >= ?"
)
TotalKey = tuple[int, int, int, int, int, Decimal, int]
"""(meter id, bucket, kind code, supply code, rated W, rate, role code)"""


def store_schedule(ledger: Ledger, calendar: Calendar, rates: RateSchedule, from_ms: int) -> None:
    """Re-rate everything accounted from the month holding `from_ms` under `rates`, and keep
    `rates` as the ledger's schedule; one transaction. Rows never cross a month, so a month's
    rows are all re-rated or none. Every row, meter and the binding it changes is resealed."""
    month = calendar.month_start(max(from_ms, rates.boundaries[0]))
    with (
        ledger.recording() as record,
        resealing(record, INTERVALS, ledger.named, "WHERE i.start_ms >= ?", (month,)),
        resealing(record, METERS, ledger.named),
        resealing_binding(record, ledger.named),
    ):
        db, seq = record.db, record.number
        rows = list(db.execute(_ROWS, (month,)))
        db.execute("DELETE FROM totals WHERE bucket_ms >= ?", (month,))
        totals: dict[TotalKey, int] = {}
        for start, meter_id, end, kind, energy, supply, rated_w, role in rows:
            pieces = list(_cut(calendar, rates, start, end, kind, energy))
            if len(pieces) > 1:
                _replace_row(db, meter_id, start, pieces, (supply, rated_w, role), seq)
            for piece in pieces:
                rate = rates.step_at(piece.start_ms).per_kwh[SUPPLIES[supply]]
                bucket = bucket_start(calendar, rates, piece.start_ms)
                key = (meter_id, bucket, kind, supply, rated_w, rate, role)
                totals[key] = totals.get(key, 0) + piece.energy_mj
        _rate_rows(db, rates, month, seq)
        db.executemany(
            ADD_TO_TOTALS,
            [(*key[:5], str(key[5]), energy, key[6]) for key, energy in totals.items()],
        )
        db.execute("DELETE FROM rate_steps")
        db.executemany(
            "INSERT INTO rate_steps (from_ms, grid, off_grid) VALUES (?, ?, ?)",
            [
                (step.from_ms, str(step.per_kwh[SUPPLIES[0]]), str(step.per_kwh[SUPPLIES[1]]))
                for step in rates.steps
            ],
        )


def _rate_rows(db: sqlite3.Connection, rates: RateSchedule, from_ms: int, seq: int) -> None:
    """Every row from `from_ms` on takes the rate of its supply under the step in force; a row
    whose rate changes is stamped with the change number `seq`."""
    ends: list[int | None] = [*rates.boundaries[1:], None]
    for step, end in zip(rates.steps, ends, strict=True):
        if end is not None and end <= from_ms:
            continue
        for code, supply in enumerate(SUPPLIES):
            db.execute(
                "UPDATE intervals SET rate = ?1, seq = ?2"
                " WHERE start_ms >= ?3 AND start_ms < ?4 AND supply = ?5 AND rate IS NOT ?1",
                (str(step.per_kwh[supply]), seq, max(step.from_ms, from_ms), end or 2**62, code),
            )


def _cut(
    calendar: Calendar, rates: RateSchedule, start: int, end: int, kind: int, energy: int
) -> Iterator[Interval]:
    """A stored row cut at the steps of `rates` (it never crosses an hour already)."""
    reason = KINDS[kind]
    basis = Basis.METERED if reason is None else Basis.DEEMED
    yield from split(Interval("", start, end, basis, reason, energy), calendar, rates)


def _replace_row(
    db: sqlite3.Connection,
    meter_id: int,
    start: int,
    pieces: list[Interval],
    billed_as: tuple[int, int, int],
    seq: int,
) -> None:
    """A row cut in pieces: the first keeps its key, the others are new rows billed as it was
    (supply code, rated W, role code); the meter's open row, if it was this one, becomes the
    last piece."""
    first, *rest = pieces
    db.execute(
        "UPDATE intervals SET end_ms = ?, energy_mj = ?, seq = ?"
        " WHERE meter_id = ? AND start_ms = ?",
        (first.end_ms, first.energy_mj, seq, meter_id, start),
    )
    kind = KIND_CODE[first.reason]
    db.executemany(
        "INSERT INTO intervals (start_ms, meter_id, end_ms, kind, energy_mj, supply, rated_w, role,"
        " seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(p.start_ms, meter_id, p.end_ms, kind, p.energy_mj, *billed_as, seq) for p in rest],
    )
    db.execute(
        "UPDATE meters SET open_row_ms = ? WHERE id = ? AND open_row_ms = ?",
        (rest[-1].start_ms, meter_id, start),
    )
