"""The archive keeps the evidence: an hour goes only once every month it falls in has been closed
for `keep_closed_years`, and only when a retention is set at all."""

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collector.archive import DeletionGuard, RawArchive
from levy.app.retention import closed_long_enough, years_after
from levy.config import ConfigError, parse_config
from levy.core.units import datetime_to_ms
from levy.ledger.store import ClosedPeriod, Ledger
from tests.collector.support import utc_ms
from tests.config.site_samples import METER

ALMATY = ZoneInfo("Asia/Almaty")
KOLKATA = ZoneInfo("Asia/Kolkata")
TOPIC = "tele/pow1/SENSOR"


def month(zone: ZoneInfo, year: int, number: int, closed_at_ms: int) -> ClosedPeriod:
    """The local month `year-number` in `zone`, closed at `closed_at_ms`."""
    after = (year + number // 12, number % 12 + 1)
    return ClosedPeriod(
        f"{year}-{number:02}",
        datetime_to_ms(datetime(year, number, 1, tzinfo=zone)),
        datetime_to_ms(datetime(*after, 1, tzinfo=zone)),
        closed_at_ms,
    )


def periods(*months: ClosedPeriod) -> dict[str, ClosedPeriod]:
    return {period.period: period for period in months}


def archive_with(
    tmp_path: Path, retention_days: int, guard: DeletionGuard, now_ms: int
) -> RawArchive:
    """An archive holding one hour of 15 October 2020 (UTC) and the hour of `now_ms`, which is
    the newest file and never deleted."""
    archive = RawArchive(tmp_path, retention_days, guard)
    archive.append([(utc_ms(2020, 10, 15, 12, 30), TOPIC, b"{}")])
    archive.append([(now_ms, TOPIC, b"{}")])
    return archive


def names(archive: RawArchive) -> list[str]:
    return [path.name for path in archive.files()]


OLD_HOUR = "2020-10-15T12.jsonl.gz"


@pytest.mark.parametrize("retention_days", [1, 90, 36500])
def test_an_old_hour_of_an_open_month_is_never_deleted(tmp_path: Path, retention_days: int) -> None:
    now_ms = utc_ms(2120, 1, 1, 0, 0)
    september = month(ALMATY, 2020, 9, utc_ms(2020, 10, 1, 0, 0))
    guard = closed_long_enough(lambda: periods(september), 5, lambda: now_ms)

    with archive_with(tmp_path, retention_days, guard, now_ms) as archive:
        archive.rotate(now_ms)

    assert OLD_HOUR in names(archive)


@pytest.mark.parametrize(
    ("closed_years_ago", "kept"), [(4, True), (6, False)], ids=["4-years-ago", "6-years-ago"]
)
def test_an_old_hour_goes_only_when_its_month_was_closed_keep_years_ago(
    tmp_path: Path, closed_years_ago: int, kept: bool
) -> None:
    now_ms = utc_ms(2020 + closed_years_ago, 11, 2, 0, 0)
    october = month(ALMATY, 2020, 10, utc_ms(2020, 11, 1, 0, 0))
    guard = closed_long_enough(lambda: periods(october), 5, lambda: now_ms)

    with archive_with(tmp_path, 90, guard, now_ms) as archive:
        archive.rotate(now_ms)

    assert (OLD_HOUR in names(archive)) is kept


def test_the_default_configuration_deletes_nothing(tmp_path: Path) -> None:
    data = tomllib.loads('[site]\nid = "site-1"\n' + METER, parse_float=Decimal)
    config = parse_config(data, tmp_path / "site.toml").archive
    assert (config.retention_days, config.keep_closed_years) == (0, 5)

    now_ms = utc_ms(2120, 1, 1, 0, 0)
    with archive_with(tmp_path, config.retention_days, lambda *_: True, now_ms) as archive:
        archive.rotate(now_ms)

    assert OLD_HOUR in names(archive)


def test_keep_closed_years_below_one_is_refused(tmp_path: Path) -> None:
    text = '[site]\nid = "site-1"\n[archive]\nkeep_closed_years = 0\n' + METER
    with pytest.raises(ConfigError) as caught:
        parse_config(tomllib.loads(text, parse_float=Decimal), tmp_path / "site.toml")

    assert [problem.partition(":")[0] for problem in caught.value.problems] == [
        "archive.keep_closed_years"
    ]


def test_a_month_may_go_from_the_same_date_keep_years_after_its_close() -> None:
    october = month(ALMATY, 2026, 10, utc_ms(2026, 11, 1, 0, 5))
    hour = (utc_ms(2026, 10, 15, 12, 0), utc_ms(2026, 10, 15, 13, 0))
    now = [utc_ms(2031, 11, 1, 0, 4, 59)]
    guard = closed_long_enough(lambda: periods(october), 5, lambda: now[0])

    assert not guard(*hour)
    now[0] += 1000
    assert guard(*hour)


def test_a_close_on_29_february_is_counted_to_1_march() -> None:
    assert years_after(utc_ms(2028, 2, 29, 10, 0), 1) == utc_ms(2029, 3, 1, 10, 0)
    assert years_after(utc_ms(2028, 2, 29, 10, 0), 4) == utc_ms(2032, 2, 29, 10, 0)


@pytest.mark.parametrize(
    ("october_closed", "november_closed", "deletable"),
    [
        (2020, None, False),
        (None, 2020, False),
        (2020, 2029, False),
        (2020, 2020, True),
    ],
    ids=["november-open", "october-open", "november-closed-recently", "both-closed-long-ago"],
)
def test_an_hour_across_a_half_hour_zone_month_end_needs_both_months(
    october_closed: int | None, november_closed: int | None, deletable: bool
) -> None:
    """In Asia/Kolkata (UTC+5:30) November begins at 18:30 UTC on 31 October, inside the UTC
    hour 18:00-19:00, which therefore holds readings of both months."""
    assert month(KOLKATA, 2020, 11, 0).start_ms == utc_ms(2020, 10, 31, 18, 30)
    closed = [
        month(KOLKATA, 2020, number, utc_ms(year, 12, 15, 0, 0))
        for number, year in ((10, october_closed), (11, november_closed))
        if year is not None
    ]
    guard = closed_long_enough(lambda: periods(*closed), 5, lambda: utc_ms(2031, 1, 1, 0, 0))

    assert guard(utc_ms(2020, 10, 31, 18, 0), utc_ms(2020, 10, 31, 19, 0)) is deletable


def test_a_gap_between_closed_months_keeps_the_hour() -> None:
    """Months are contiguous in a ledger; should one be missing, the hours in it stay."""
    long_ago = utc_ms(2021, 1, 1, 0, 0)
    september, november = month(ALMATY, 2020, 9, long_ago), month(ALMATY, 2020, 11, long_ago)
    guard = closed_long_enough(lambda: periods(november, september), 5, lambda: utc_ms(2030, 1, 1))

    assert guard(utc_ms(2020, 9, 15, 0, 0), utc_ms(2020, 9, 15, 1, 0))
    assert not guard(utc_ms(2020, 10, 15, 0, 0), utc_ms(2020, 10, 15, 1, 0))
    assert not guard(utc_ms(2020, 9, 15, 0, 0), utc_ms(2020, 9, 15, 0, 0))


def test_the_guard_reads_the_ledger_each_time_it_is_asked(tmp_path: Path) -> None:
    """The daemon closes months while it runs: a month closed after the guard was built counts."""
    ledger = Ledger(tmp_path / "site-1.sqlite")
    try:
        guard = closed_long_enough(ledger.closed_periods, 5, lambda: utc_ms(2030, 1, 1, 0, 0))
        hour = (utc_ms(2020, 10, 15, 12, 0), utc_ms(2020, 10, 15, 13, 0))
        assert not guard(*hour)

        ledger.mark_closed(month(ALMATY, 2020, 10, utc_ms(2020, 11, 1, 0, 5)))

        assert guard(*hour)
    finally:
        ledger.close()
