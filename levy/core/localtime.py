"""Naive local times: which instants a wall-clock time can mean in a zone, and choosing one.

A time without an offset (a Tasmota `Time`, a naive `ts`, a configuration or command-line time)
is read in the site zone. Most wall-clock times name one instant. Where the clocks go back, the
repeated hour names two (`fold` 0, the first pass, and `fold` 1, the second); where the clocks go
forward, the skipped hour names none, and the same two readings (the offset before the change,
and the offset after it) give two instants that straddle the gap. Payload times are resolved
against their receive time (`nearest`); configuration and command-line times, which have
none, must not be guessed (`unique_local_ms` refuses them, naming both candidates).

Standard library only, and no clock: every instant is passed in.
"""

from datetime import UTC, datetime, timedelta, timezone, tzinfo

from levy.core.units import datetime_to_ms


def local_candidates(naive: datetime, zone: tzinfo) -> tuple[int, ...]:
    """The distinct UTC epoch ms a naive local time can mean in `zone`, earliest first: one
    normally, two in a repeated (ambiguous) or a skipped (non-existent) hour."""
    return tuple(sorted({datetime_to_ms(moment) for moment in _readings(naive, zone)}))


def nearest(candidates: tuple[int, ...], reference_ms: int) -> int:
    """Of `local_candidates`, the one nearest `reference_ms` (a tie goes to the earlier)."""
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=lambda ms: (abs(ms - reference_ms), ms))


def unique_local_ms(naive: datetime, zone: tzinfo) -> int:
    """The one instant `naive` means in `zone`; ValueError naming both candidates, with their
    offsets, where the zone makes it ambiguous or non-existent."""
    readings = _readings(naive, zone)
    candidates = local_candidates(naive, zone)
    if len(candidates) == 1:
        return candidates[0]
    shown = " or ".join(
        naive.replace(tzinfo=timezone(offset)).isoformat()
        for offset in sorted({_offset(moment) for moment in readings}, reverse=True)
    )
    if any(_exists(moment, zone) for moment in readings):
        problem = f"is ambiguous in {zone}: the clocks go back through it"
    else:
        problem = f"does not exist in {zone}: the clocks skip it"
    raise ValueError(f"{naive.isoformat()} {problem}; give an offset: {shown}")


def _readings(naive: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    if naive.tzinfo is not None:
        raise ValueError(f"{naive.isoformat()} is not a naive local time")
    return naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)


def _offset(moment: datetime) -> timedelta:
    offset = moment.utcoffset()
    return timedelta(0) if offset is None else offset


def _exists(moment: datetime, zone: tzinfo) -> bool:
    """Whether the instant shows this wall-clock time on the zone's clocks (a skipped time
    never does)."""
    return moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0) == (
        moment.replace(tzinfo=None, fold=0)
    )
