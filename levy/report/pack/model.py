"""What a pack is made from: the report document (every figure), the days as printed (the one
series the document lacks) and the instant it was made at."""

from dataclasses import dataclass
from typing import Any

from levy.core.calendar import Calendar, Period
from levy.core.model import Supply
from levy.ledger.store import Ledger
from levy.report.daily import PrintedDay, daily_energy, printed_days


@dataclass(frozen=True)
class Pack:
    document: dict[str, Any]
    days: dict[Supply, list[PrintedDay]]
    made_at: str
    """The ledger clock, in the site zone: the pack shows the ledger as of then, and the same
    ledger makes the same pack."""


def pack_of(ledger: Ledger, calendar: Calendar, period: Period, document: dict[str, Any]) -> Pack:
    """The pack of `document`, the report of `period` just read from `ledger`."""
    days = printed_days(daily_energy(ledger, calendar, period), document)
    return Pack(document, days, calendar.iso(ledger.clock_ms))
