"""The billed energy of a span of time, per supply, from the rows: what a run rate is taken from.

A row lies inside one clock hour, so only the rows that start less than an hour before either
end can cross it; those count in time proportion (rule 8's split), the rest whole, summed by
SQLite."""

import sqlite3
from fractions import Fraction

from levy.core.model import Supply
from levy.core.units import MS_PER_HOUR
from levy.ledger.store import SUPPLIES

_WHOLE = (
    "SELECT supply, SUM(energy_mj) FROM intervals"
    " WHERE start_ms >= ?1 AND start_ms < ?2 AND end_ms <= ?2 AND role = 0 GROUP BY supply"
)
_ACROSS = (
    "SELECT supply, start_ms, end_ms, energy_mj FROM intervals"
    " WHERE start_ms >= ?2 - ?3 AND start_ms < ?2 AND end_ms > ?2 AND role = 0"
    " UNION ALL SELECT supply, start_ms, end_ms, energy_mj FROM intervals"
    " WHERE start_ms >= ?1 - ?3 AND start_ms < ?1 AND end_ms > ?1 AND end_ms <= ?2 AND role = 0"
)


def billed_energy(db: sqlite3.Connection, start_ms: int, end_ms: int) -> dict[Supply, Fraction]:
    """Billed (not site_main) energy in [start, end), in mJ, exact."""
    energy = {supply: Fraction(0) for supply in Supply}
    for supply, mj in db.execute(_WHOLE, (start_ms, end_ms)):
        energy[SUPPLIES[supply]] += mj
    for supply, row_start, row_end, mj in db.execute(_ACROSS, (start_ms, end_ms, MS_PER_HOUR)):
        inside = min(row_end, end_ms) - max(row_start, start_ms)
        energy[SUPPLIES[supply]] += Fraction(mj * inside, row_end - row_start)
    return energy
