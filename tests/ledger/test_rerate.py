"""A rate step added inside an open month: the row it falls in is cut there in time proportion,
every later row takes the new rate, and the per-bucket totals follow."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from levy.config.zone import load_zone
from levy.core.calendar import Calendar
from levy.core.engine import Engine
from levy.core.model import Reading, Supply
from levy.core.rates import RateSchedule, RateStep
from levy.core.rules import Rules
from levy.core.units import datetime_to_ms, kwh_to_mj
from levy.ledger.rerate import store_schedule
from levy.ledger.store import Ledger
from tests.core.drive import spec

ALMATY = load_zone("Asia/Almaty")
CALENDAR = Calendar(ALMATY)
RULES = Rules(stale_after_ms=2 * 3_600_000)


def ms(text: str) -> int:
    return datetime_to_ms(datetime.fromisoformat(text))


def schedule(*steps: tuple[str, str]) -> RateSchedule:
    return RateSchedule(
        [
            RateStep(ms(at), {Supply.GRID: Decimal(grid), Supply.OFF_GRID: Decimal(1)})
            for at, grid in steps
        ]
    )


def read(when: str, register: str) -> Reading:
    return Reading("rig-1", ms(when), ms(when), energy_mj=kwh_to_mj(Decimal(register)))


def open_engine(ledger: Ledger, rates: RateSchedule) -> Engine:
    meter = replace(spec(), start_ms=ms("2026-11-02T10:00+05:00"))
    ledger.register_meters([meter])
    states, rows = ledger.states()
    return Engine({"rig-1": meter}, RULES, CALENDAR, rates, states, rows)


def test_a_step_inside_a_stored_row_cuts_it_and_rerates_what_follows(tmp_path: Path) -> None:
    before = schedule(("2024-01-01T00:00+06:00", "2"))
    after = schedule(("2024-01-01T00:00+06:00", "2"), ("2026-11-02T10:30+05:00", "3"))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.bind_site("s", ms("2026-11-02T10:00+05:00"), "Asia/Almaty")
        engine = open_engine(ledger, before)
        ledger.commit(
            engine.apply(
                [read("2026-11-02T10:00+05:00", "100"), read("2026-11-02T11:00+05:00", "101.2")]
            )
        )
        store_schedule(ledger, CALENDAR, after, ms("2026-11-02T10:30+05:00"))
        engine = open_engine(ledger, after)
        ledger.commit(engine.apply([read("2026-11-02T11:30+05:00", "101.8")]))
        rows = ledger.db.execute(
            "SELECT start_ms, end_ms, energy_mj, rate FROM intervals ORDER BY start_ms"
        ).fetchall()
        totals = ledger.db.execute(
            "SELECT bucket_ms, rate, energy_mj FROM totals ORDER BY bucket_ms"
        ).fetchall()
        steps = ledger.rate_steps()
    half_hour = kwh_to_mj(Decimal("0.6"))
    assert rows == [
        (ms("2026-11-02T10:00+05:00"), ms("2026-11-02T10:30+05:00"), half_hour, "2"),
        (ms("2026-11-02T10:30+05:00"), ms("2026-11-02T11:00+05:00"), half_hour, "3"),
        (ms("2026-11-02T11:00+05:00"), ms("2026-11-02T11:30+05:00"), half_hour, "3"),
    ]
    assert totals == [
        (ms("2026-11-01T00:00+05:00"), "2", half_hour),
        (ms("2026-11-02T10:30+05:00"), "3", 2 * half_hour),
    ]
    assert [step.from_ms for step in steps] == after.boundaries
