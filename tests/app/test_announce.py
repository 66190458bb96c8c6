"""The operator's log of meters: a line per meter that changed, news only, many as one line."""

from levy.app.announce import status_lines
from levy.config.zone import load_zone
from levy.core.calendar import Calendar
from levy.core.rules import Baseline, MeterState
from levy.core.status import MeterStatus

CALENDAR = Calendar(load_zone("Asia/Almaty"))
T = 1_795_000_000_000  # 2026-11-18T16:06:40+05:00
ON, SILENT, FAULT, OFF = (
    MeterStatus.ONLINE,
    MeterStatus.SILENT,
    MeterStatus.FAULT,
    MeterStatus.OFFLINE,
)


def test_each_change_is_one_line_with_its_time() -> None:
    states = {
        "a": MeterState(0, Baseline(T, 1)),
        "b": MeterState(0, Baseline(T, 1), faults=(T + 60_000,)),
        "c": MeterState(0),
        "d": MeterState(0, Baseline(T, 1)),
    }
    before = {"a": ON, "b": ON, "c": ON, "d": SILENT, "e": ON}
    after = {"a": SILENT, "b": FAULT, "c": OFF, "d": ON, "e": ON}
    assert sorted(status_lines(before, after, states, CALENDAR)) == [
        "meter a silent: no valid reading since 2026-11-18T16:06:40+05:00",
        "meter b faulty since 2026-11-18T16:07:40+05:00",
        "meter c offline, its device says",
        "meter d reporting again",
    ]


def test_a_meter_seen_for_the_first_time_is_not_news() -> None:
    assert status_lines({}, {"a": SILENT}, {"a": MeterState(0)}, CALENDAR) == []


def test_many_at_once_are_one_line_naming_the_first_ten() -> None:
    meters = [f"rig-{n:02d}" for n in range(25)]
    before = dict.fromkeys(meters, ON)
    after = dict.fromkeys(meters, SILENT)
    [line] = status_lines(before, after, {}, CALENDAR)
    assert line == ("25 meters silent: " + ", ".join(meters[:10]) + " and 15 more")
