"""What the daemon tells an operator about meters: one log line when a meter goes silent, faulty
or offline, or comes back; many at once (a broker outage) make one line naming the first few."""

from collections.abc import Mapping

from levy.core.calendar import Calendar
from levy.core.rules import MeterState
from levy.core.status import MeterStatus

MAX_NAMED = 10

GROUP_WORDS = {
    MeterStatus.ONLINE: "reporting again",
    MeterStatus.SILENT: "silent",
    MeterStatus.FAULT: "faulty",
    MeterStatus.OFFLINE: "offline",
}


def status_lines(
    before: Mapping[str, MeterStatus],
    after: Mapping[str, MeterStatus],
    states: Mapping[str, MeterState],
    calendar: Calendar,
) -> list[str]:
    """The changes from `before` to `after`; a meter not in `before` was not known, and is not
    news."""
    changed: dict[MeterStatus, list[str]] = {}
    for meter, status in after.items():
        if before.get(meter, status) != status:
            changed.setdefault(status, []).append(meter)
    lines = []
    for status, meters in changed.items():
        meters.sort()
        if len(meters) > MAX_NAMED:
            named = ", ".join(meters[:MAX_NAMED])
            more = len(meters) - MAX_NAMED
            lines.append(f"{len(meters)} meters {GROUP_WORDS[status]}: {named} and {more} more")
        else:
            lines += [f"meter {m} {detail(status, states.get(m), calendar)}" for m in meters]
    return lines


def detail(status: MeterStatus, state: MeterState | None, calendar: Calendar) -> str:
    if status is MeterStatus.SILENT:
        if state is None or state.baseline is None:
            return "silent: no valid reading yet"
        return f"silent: no valid reading since {calendar.iso(state.baseline.t_ms)}"
    if status is MeterStatus.FAULT:
        if state is not None and state.faults:
            return f"faulty since {calendar.iso(state.faults[0])}"
        return "faulty, its device says"
    if status is MeterStatus.OFFLINE:
        return "offline, its device says"
    return "reporting again"
