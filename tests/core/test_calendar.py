"""Local clock hours and calendar months in zones with half- and quarter-hour offsets, a change of
standard offset and DST, worked by hand; then a property test against plain datetime arithmetic.
(Period parsing and quarters are in test_engine.py.)"""

import itertools
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levy.config.zone import load_zone
from levy.core.calendar import Calendar
from levy.core.units import MS_PER_HOUR, datetime_to_ms, ms_to_datetime

MINUTE = 60_000
ZONES = [
    "Asia/Kolkata",
    "Asia/Almaty",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Europe/Berlin",
]


def utc(text: str) -> int:
    """An instant written with its offset (or Z)."""
    return datetime_to_ms(datetime.fromisoformat(text))


def calendar(name: str) -> Calendar:
    return Calendar(load_zone(name))


def hours(cal: Calendar, start: int, end: int) -> list[int]:
    """The hour boundaries from `start` (itself a boundary) up to `end`, following next_hour."""
    found = [start]
    while found[-1] < end:
        found.append(cal.next_hour(found[-1]))
    return found


def test_kolkata_month_end_falls_at_half_past_utc():
    cal = calendar("Asia/Kolkata")
    october, november = cal.month_bounds(2026, 10), cal.month_bounds(2026, 11)
    assert october == (utc("2026-09-30T18:30Z"), utc("2026-10-31T18:30Z"))
    assert november[0] == utc("2026-10-31T18:30Z")
    # 2026-10-31T23:50 to 2026-11-01T00:10 local is 18:20Z to 18:40Z: one UTC hour, two months,
    # asked minute by minute in order (the old per-UTC-hour cache put them all in October).
    for minute in range(21):
        ms = utc("2026-10-31T18:20Z") + minute * MINUTE
        in_november = minute >= 10
        assert cal.month_start(ms) == (november if in_november else october)[0], minute
        assert cal.month_label(ms) == ("2026-11" if in_november else "2026-10"), minute
        assert cal.hour_start(ms) == utc(
            "2026-10-31T18:30Z" if in_november else "2026-10-31T17:30Z"
        )
        assert cal.next_hour(ms) == utc("2026-10-31T19:30Z" if in_november else "2026-10-31T18:30Z")
    assert cal.month_start(utc("2026-10-31T18:30Z") - 1) == october[0]


def test_almaty_moves_from_plus_6_to_plus_5_at_midnight_on_1_march_2024():
    cal = calendar("Asia/Almaty")
    # At 00:00+06 (18:00Z) the clocks went back to 23:00+05: 29 February has 25 hours, and
    # local midnight of 1 March exists once, at 00:00+05.
    assert cal.local_midnight_ms(2024, 3, 1) == utc("2024-02-29T19:00Z")
    assert cal.month_bounds(2024, 2) == (utc("2024-01-31T18:00Z"), utc("2024-02-29T19:00Z"))
    assert cal.month_bounds(2024, 3) == (utc("2024-02-29T19:00Z"), utc("2024-03-31T19:00Z"))
    assert hours(cal, utc("2024-02-29T16:00Z"), utc("2024-02-29T20:00Z")) == [
        utc("2024-02-29T16:00Z"),  # 22:00+06
        utc("2024-02-29T17:00Z"),  # 23:00+06
        utc("2024-02-29T18:00Z"),  # 23:00+05, the second pass
        utc("2024-02-29T19:00Z"),  # 00:00+05, 1 March
        utc("2024-02-29T20:00Z"),
    ]
    assert cal.hour_start(utc("2024-02-29T18:59Z")) == utc("2024-02-29T18:00Z")
    assert cal.month_label(utc("2024-02-29T18:59Z")) == "2024-02"
    assert cal.month_start(utc("2024-02-29T19:00Z")) == utc("2024-02-29T19:00Z")
    assert cal.iso(utc("2024-02-29T19:00Z")) == "2024-03-01T00:00:00+05:00"
    days = (utc("2024-02-29T19:00Z") - utc("2024-01-31T18:00Z")) / (24 * MS_PER_HOUR)
    assert days == 29 + 1 / 24


def test_kathmandu_hours_start_at_a_quarter_past_utc():
    cal = calendar("Asia/Kathmandu")
    assert cal.month_bounds(2026, 10) == (utc("2026-09-30T18:15Z"), utc("2026-10-31T18:15Z"))
    assert cal.hour_start(utc("2026-10-31T18:14:59.999Z")) == utc("2026-10-31T17:15Z")
    assert cal.month_label(utc("2026-10-31T18:14:59.999Z")) == "2026-10"
    assert cal.hour_start(utc("2026-10-31T18:20Z")) == utc("2026-10-31T18:15Z")
    assert cal.month_start(utc("2026-10-31T18:20Z")) == utc("2026-10-31T18:15Z")
    assert cal.next_hour(utc("2026-10-31T18:15Z")) == utc("2026-10-31T19:15Z")
    assert cal.offset_ms(utc("2026-10-31T18:15Z")) == (5 * 60 + 45) * MINUTE


@pytest.mark.parametrize(
    ("first", "last", "local_hours"),
    [
        # 2026-10-04 02:00+10:30 (15:30Z) becomes 02:30+11: that hour is 02:30 to 03:00.
        ("2026-10-03T13:30Z", "2026-10-03T17:00Z", ["00:00+10:30", "01:00+10:30", "02:30+11:00"]),
        # 2026-04-05 02:00+11 (15:00Z) becomes 01:30+10:30: that hour is 01:30 to 02:00.
        ("2026-04-04T13:00Z", "2026-04-04T16:30Z", ["00:00+11:00", "01:00+11:00", "01:30+10:30"]),
    ],
)
def test_lord_howe_half_hour_dst_change_cuts_a_half_hour_hour(
    first: str, last: str, local_hours: list[str]
):
    cal = calendar("Australia/Lord_Howe")
    found = hours(cal, utc(first), utc(last))
    assert [cal.iso(ms)[11:16] + cal.iso(ms)[19:] for ms in found][:3] == local_hours
    assert [(b - a) // MINUTE for a, b in itertools.pairwise(found)] == [60, 60, 30, 60]
    change = found[2]
    for ms in range(change - 2 * MS_PER_HOUR, change + 2 * MS_PER_HOUR, 7 * MINUTE + 1):
        start, end = cal.hour_start(ms), cal.next_hour(ms)
        assert start <= ms < end
        assert cal.hour_start(end - 1) == start
        assert cal.hour_start(end) == end


def test_lord_howe_hours_either_side_of_the_changes():
    cal = calendar("Australia/Lord_Howe")
    assert cal.hour_start(utc("2026-10-03T15:40Z")) == utc("2026-10-03T15:30Z")
    assert cal.next_hour(utc("2026-10-03T15:10Z")) == utc("2026-10-03T15:30Z")
    assert cal.hour_start(utc("2026-04-04T15:10Z")) == utc("2026-04-04T15:00Z")
    assert cal.hour_start(utc("2026-04-04T14:59:59.999Z")) == utc("2026-04-04T14:00Z")


def test_berlin_dst_days_have_23_and_25_hours():
    cal = calendar("Europe/Berlin")
    spring = hours(cal, cal.local_midnight_ms(2026, 3, 29), cal.local_midnight_ms(2026, 3, 30))
    autumn = hours(cal, cal.local_midnight_ms(2026, 10, 25), cal.local_midnight_ms(2026, 10, 26))
    assert (len(spring) - 1, len(autumn) - 1) == (23, 25)
    assert cal.month_bounds(2026, 10) == (utc("2026-09-30T22:00Z"), utc("2026-10-31T23:00Z"))
    assert cal.hour_start(utc("2026-10-25T01:30Z")) == utc("2026-10-25T01:00Z")  # 02:30+01
    assert cal.hour_start(utc("2026-10-25T00:30Z")) == utc("2026-10-25T00:00Z")  # 02:30+02


def test_a_month_whose_midnight_is_skipped_starts_when_the_clocks_jump():
    # Paraguay's DST began at 00:00 on Sunday 2023-10-01 (-04 to -03): October began at 01:00-03.
    cal = calendar("America/Asuncion")
    start = utc("2023-10-01T04:00Z")
    assert cal.month_bounds(2023, 10)[0] == start
    assert cal.month_start(start) == start
    assert cal.month_label(start - 1) == "2023-09"
    assert cal.iso(start) == "2023-10-01T01:00:00-03:00"


def reference_month(ms: int, name: str) -> tuple[int, int]:
    local = ms_to_datetime(ms).astimezone(load_zone(name))
    year, month = local.year, local.month
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    zone = load_zone(name)
    return (
        datetime_to_ms(datetime(year, month, 1, tzinfo=zone)),
        datetime_to_ms(datetime(*after, 1, tzinfo=zone)),
    )


CALENDARS = {name: calendar(name) for name in ZONES}
"""Shared across examples, so the property also exercises the caches in any order."""


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(utc("2024-01-01T00:00Z"), utc("2028-01-01T00:00Z") - 1),
)
def test_months_and_hours_match_plain_datetime_arithmetic(name: str, ms: int):
    cal = CALENDARS[name]
    start, end = reference_month(ms, name)
    assert start <= ms < end
    assert cal.month_start(ms) == start
    assert cal.month_bounds(*map(int, cal.month_label(ms).split("-"))) == (start, end)
    hour, next_hour = cal.hour_start(ms), cal.next_hour(ms)
    assert hour <= ms < next_hour
    assert cal.hour_start(next_hour - 1) == hour
    assert cal.hour_start(next_hour) == next_hour
    # An hour starts on a whole local hour, or where the offset changes.
    on_the_hour = ms_to_datetime(hour).astimezone(cal.zone).minute == 0
    assert on_the_hour or cal.offset_ms(hour - 1) != cal.offset_ms(hour)


def test_month_starts_run_from_the_first_instants_month_to_the_last_instants():
    almaty = calendar("Asia/Almaty")
    starts = almaty.month_starts(utc("2023-12-31T23:59:00+06:00"), utc("2024-03-01T00:00:00+05:00"))
    assert [almaty.iso(start) for start in starts] == [
        "2023-12-01T00:00:00+06:00",
        "2024-01-01T00:00:00+06:00",
        "2024-02-01T00:00:00+06:00",
        "2024-03-01T00:00:00+05:00",
    ]
    assert almaty.month_starts(utc("2024-02-10T00:00:00+06:00"), 0) == []
