"""Naive local times around clock changes: the candidates, the nearest one, and refusing to guess."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from levy.core.localtime import local_candidates, nearest, unique_local_ms
from levy.core.units import datetime_to_ms

BERLIN = ZoneInfo("Europe/Berlin")
ALMATY = ZoneInfo("Asia/Almaty")
REPEATED = datetime(2026, 10, 25, 2, 30)  # clocks go back 03:00 CEST -> 02:00 CET (01:00Z)
SKIPPED = datetime(2026, 3, 29, 2, 30)  # clocks go forward 02:00 CET -> 03:00 CEST (01:00Z)


def utc(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=UTC))


def test_an_ordinary_time_has_one_candidate() -> None:
    assert local_candidates(datetime(2026, 7, 1, 12), BERLIN) == (utc(2026, 7, 1, 10),)
    assert local_candidates(datetime(2026, 7, 1, 12), ALMATY) == (utc(2026, 7, 1, 7),)
    assert local_candidates(datetime(2026, 7, 1, 12), timezone(timedelta(hours=5))) == (
        utc(2026, 7, 1, 7),
    )
    assert unique_local_ms(datetime(2026, 7, 1, 12, 0, 0, 250_999), BERLIN) == (
        utc(2026, 7, 1, 10) + 250
    )


def test_the_repeated_hour_has_both_passes_earliest_first() -> None:
    assert local_candidates(REPEATED, BERLIN) == (
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
    )


def test_the_skipped_hour_has_the_readings_either_side_of_the_gap() -> None:
    # +02:00 (the offset after the change) gives 00:30Z, +01:00 (before it) 01:30Z: they
    # straddle the change at 01:00Z.
    assert local_candidates(SKIPPED, BERLIN) == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30))


@pytest.mark.parametrize("naive", [REPEATED, SKIPPED])
@pytest.mark.parametrize(
    ("reference", "meant"),
    [
        ((0, 0), (0, 30)),
        ((0, 31), (0, 30)),
        ((1, 0), (0, 30)),  # a tie goes to the earlier
        ((1, 1), (1, 30)),
        ((1, 31), (1, 30)),
        ((23, 0), (1, 30)),
    ],
)
def test_nearest_to_the_reference(
    naive: datetime, reference: tuple[int, int], meant: tuple[int, int]
) -> None:
    day = (naive.year, naive.month, naive.day)
    assert nearest(local_candidates(naive, BERLIN), utc(*day, *reference)) == utc(*day, *meant)


def test_an_ordinary_time_ignores_the_reference() -> None:
    noon = datetime(2026, 7, 1, 12)
    candidates = local_candidates(noon, BERLIN)
    assert nearest(candidates, 0) == nearest(candidates, utc(2100, 1, 1))


@pytest.mark.parametrize(
    ("naive", "problem"),
    [
        (
            REPEATED,
            "2026-10-25T02:30:00 is ambiguous in Europe/Berlin: the clocks go back through it; "
            "give an offset: 2026-10-25T02:30:00+02:00 or 2026-10-25T02:30:00+01:00",
        ),
        (
            SKIPPED,
            "2026-03-29T02:30:00 does not exist in Europe/Berlin: the clocks skip it; "
            "give an offset: 2026-03-29T02:30:00+02:00 or 2026-03-29T02:30:00+01:00",
        ),
    ],
)
def test_a_time_without_a_reference_is_refused_naming_both_candidates(
    naive: datetime, problem: str
) -> None:
    with pytest.raises(ValueError) as caught:
        unique_local_ms(naive, BERLIN)
    assert str(caught.value) == problem


@pytest.mark.parametrize("text", ["2026-10-25T02:30:00+02:00", "2026-03-29T02:30:00+01:00"])
def test_the_offsets_named_are_the_candidates(text: str) -> None:
    moment = datetime.fromisoformat(text)
    assert datetime_to_ms(moment) in local_candidates(moment.replace(tzinfo=None), BERLIN)


def test_an_aware_time_is_not_a_local_one() -> None:
    with pytest.raises(ValueError, match="not a naive local time"):
        local_candidates(datetime(2026, 7, 1, tzinfo=UTC), BERLIN)
