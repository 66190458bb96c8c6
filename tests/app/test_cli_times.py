"""Command-line times: ISO 8601, a naive one in the site zone, refused where a clock change makes
it ambiguous or skips it (the command line has no receive time to choose a candidate by)."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from levy.app.errors import UsageError
from levy.cli import main, parse_time
from levy.core.units import datetime_to_ms

BERLIN_SITE: Any = SimpleNamespace(config=SimpleNamespace(zone=ZoneInfo("Europe/Berlin")))


def utc_ms(*fields: int) -> int:
    return datetime_to_ms(datetime(*fields, tzinfo=UTC))


def test_naive_and_offset_times() -> None:
    assert parse_time(BERLIN_SITE, "2026-07-01T12:00", "--from") == utc_ms(2026, 7, 1, 10)
    assert parse_time(BERLIN_SITE, "2026-10-25", "--from") == utc_ms(2026, 10, 24, 22)
    assert parse_time(BERLIN_SITE, "2026-10-25T02:30+01:00", "--from") == utc_ms(
        2026, 10, 25, 1, 30
    )
    assert parse_time(BERLIN_SITE, None, "--from") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "2026-10-25T02:30",
            "--until: 2026-10-25T02:30:00 is ambiguous in Europe/Berlin: the clocks go back "
            "through it; give an offset: 2026-10-25T02:30:00+02:00 or 2026-10-25T02:30:00+01:00",
        ),
        (
            "2026-03-29T02:30",
            "--until: 2026-03-29T02:30:00 does not exist in Europe/Berlin: the clocks skip it; "
            "give an offset: 2026-03-29T02:30:00+02:00 or 2026-03-29T02:30:00+01:00",
        ),
        ("soon", "--until 'soon' is not an ISO 8601 time"),
    ],
)
def test_a_time_the_zone_repeats_or_skips_is_a_usage_error(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_time(BERLIN_SITE, text, "--until")
    assert str(caught.value) == problem


def test_the_command_exits_2_naming_both_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\nid = "berlin-1"\ntimezone = "Europe/Berlin"\n'
        '[[meters]]\nid = "rig-1"\ntopic = "mining/berlin-1/rig-1"\nrated_kw = "3"\n'
    )
    feed = tmp_path / "feed.jsonl"
    feed.write_text("")
    status = main(["replay", "-c", str(config), "-i", str(feed), "--from", "2026-10-25T02:30"])
    err = capsys.readouterr().err
    assert status == 2
    assert "2026-10-25T02:30:00+02:00 or 2026-10-25T02:30:00+01:00" in err
    assert "Traceback" not in err
