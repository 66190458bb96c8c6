from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from levy.config import SiteConfig
from levy.config.zone import load_zone
from tests.config.site_samples import METER

TOKYO = load_zone("Asia/Tokyo")
SITE_IN_TOKYO = '[site]\nid = "site-1"\ntimezone = "Asia/Tokyo"\n'


def test_a_naive_date_time_is_read_in_the_site_zone(load: Callable[[str], SiteConfig]) -> None:
    config = load(SITE_IN_TOKYO + "[ledger]\naccounting_start = 2026-10-01T08:30:00\n" + METER)
    start = config.ledger.accounting_start
    assert start == datetime(2026, 10, 1, 8, 30, tzinfo=TOKYO)
    assert start is not None and start.utcoffset() == timedelta(hours=9)


def test_a_date_is_local_midnight(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE_IN_TOKYO
        + "[ledger]\naccounting_start = 2026-10-01\n"
        + METER
        + "commissioned_at = 2026-10-05\n"
    )
    assert config.ledger.accounting_start == datetime(2026, 10, 1, tzinfo=TOKYO)
    assert config.meters[0].commissioned_at == datetime(2026, 10, 5, tzinfo=TOKYO)


def test_a_date_time_with_an_offset_keeps_its_instant(load: Callable[[str], SiteConfig]) -> None:
    config = load(SITE_IN_TOKYO + METER + "commissioned_at = 2026-10-05T00:00:00+05:00\n")
    commissioned = config.meters[0].commissioned_at
    assert commissioned == datetime(2026, 10, 4, 19, tzinfo=UTC)
    assert commissioned is not None and commissioned.tzinfo == TOKYO


def test_strings_are_read_as_iso_8601(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE_IN_TOKYO
        + '[ledger]\naccounting_start = "2026-10-01"\n'
        + METER
        + 'commissioned_at = "2026-10-05T12:00:00Z"\n'
    )
    assert config.ledger.accounting_start == datetime(2026, 10, 1, tzinfo=TOKYO)
    assert config.meters[0].commissioned_at == datetime(2026, 10, 5, 12, tzinfo=UTC)


def test_times_that_are_not_dates(problems: Callable[[str], list[str]]) -> None:
    assert problems(
        '[site]\nid = "s"\n[ledger]\naccounting_start = 08:00:00\n'
        + METER
        + 'commissioned_at = "yesterday"\n'
    ) == [
        "ledger.accounting_start: should be a date or a date-time",
        "meters[0].commissioned_at: 'yesterday' is not an ISO 8601 date or date-time",
    ]


def test_times_beyond_the_calendar_in_utc(problems: Callable[[str], list[str]]) -> None:
    assert problems(
        '[site]\nid = "s"\n[ledger]\naccounting_start = 0001-01-01\n'
        + METER
        + "commissioned_at = 9999-12-31T23:00:00-05:00\n"
    ) == [
        "ledger.accounting_start: 0001-01-01T00:00:00 is out of range",
        "meters[0].commissioned_at: 9999-12-31T23:00:00-05:00 is out of range",
    ]


def test_rates_are_effective_dated_from_local_midnight(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE_IN_TOKYO
        + """
        [[rates]]
        from = 2024-01-01
        grid = "2"
        off_grid = 1
        [[rates]]
        from = 2026-07-01T00:00:00+05:00
        grid = 2.5
        off_grid = "1.25"
        """
        + METER
    )
    assert [rate.from_ for rate in config.rates] == [
        datetime(2024, 1, 1, tzinfo=TOKYO),
        datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=5))),
    ]
    assert config.rates[1].grid == Decimal("2.5")


def test_rates_must_be_strictly_increasing(problems: Callable[[str], list[str]]) -> None:
    found = problems(
        """
        [site]
        id = "site-1"
        [[rates]]
        from = 2025-01-01
        grid = 2
        off_grid = 1
        [[rates]]
        from = 2025-01-01
        grid = 3
        off_grid = 1
        """
        + METER
    )
    assert found == [
        "rates[1].from: should be later than the entry before (2025-01-01T00:00:00+05:00)"
    ]


def test_each_rate_is_validated(problems: Callable[[str], list[str]]) -> None:
    found = problems(
        """
        [site]
        id = "site-1"
        [[rates]]
        from = 2024-01-01
        grid = "-1"
        [[rates]]
        from = "soon"
        grid = "two"
        off_grid = 1
        """
        + METER
    )
    assert found == [
        "rates[0].grid: Input should be greater than or equal to 0",
        "rates[0].off_grid: required key is missing",
        "rates[1].from: 'soon' is not an ISO 8601 date or date-time",
        "rates[1].grid: Input should be a valid decimal",
    ]
    assert problems('rates = []\n[site]\nid = "s"\n' + METER) == [
        "rates: List should have at least 1 item after validation, not 0"
    ]


def test_accounting_cannot_start_before_the_first_rate(
    problems: Callable[[str], list[str]],
) -> None:
    found = problems(
        """
        [site]
        id = "site-1"
        [ledger]
        accounting_start = 2023-12-31
        """
        + METER
    )
    assert found == [
        # Almaty was UTC+6 until March 2024.
        "ledger.accounting_start: 2023-12-31T00:00:00+06:00 is before the first rate "
        "(rates[0].from = 2024-01-01T00:00:00+06:00): no rate would apply"
    ]


BERLIN_SITE = '[site]\nid = "site-1"\ntimezone = "Europe/Berlin"\n'


def test_a_local_time_the_zone_repeats_or_skips_needs_an_offset(
    problems: Callable[[str], list[str]],
) -> None:
    # No receive time to choose by: both candidates are named, with their offsets.
    found = problems(
        BERLIN_SITE
        + "[ledger]\naccounting_start = 2026-10-25T02:30:00\n"
        + METER
        + 'commissioned_at = "2026-03-29T02:30:00"\n'
    )
    assert found == [
        "ledger.accounting_start: 2026-10-25T02:30:00 is ambiguous in Europe/Berlin: the clocks "
        "go back through it; give an offset: 2026-10-25T02:30:00+02:00 or "
        "2026-10-25T02:30:00+01:00",
        "meters[0].commissioned_at: 2026-03-29T02:30:00 does not exist in Europe/Berlin: the "
        "clocks skip it; give an offset: 2026-03-29T02:30:00+02:00 or 2026-03-29T02:30:00+01:00",
    ]


def test_the_offset_resolves_it(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        BERLIN_SITE
        + "[ledger]\naccounting_start = 2026-10-25T02:30:00+01:00\n"
        + METER
        + "commissioned_at = 2026-10-25T03:30:00\n"
    )
    start, commissioned = config.ledger.accounting_start, config.meters[0].commissioned_at
    assert start is not None and commissioned is not None
    # The second 02:30 (fold 1): `==` across zones is always false for it, so compare in UTC.
    assert start.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert commissioned.astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


def test_a_skipped_local_midnight_is_refused_too(problems: Callable[[str], list[str]]) -> None:
    # Chile moves its clocks at midnight: 2026-09-06 has no 00:00.
    found = problems(
        '[site]\nid = "s"\ntimezone = "America/Santiago"\n'
        + "[ledger]\naccounting_start = 2026-09-06\n"
        + METER
    )
    assert found == [
        "ledger.accounting_start: 2026-09-06T00:00:00 does not exist in America/Santiago: the "
        "clocks skip it; give an offset: 2026-09-06T00:00:00-03:00 or 2026-09-06T00:00:00-04:00"
    ]
