"""What an operator sees of a meter: online, offline, fault or silent. A display status for the
dashboards and /healthz; billing is decided by the rules alone."""

from enum import StrEnum

from levy.core.model import Availability
from levy.core.rules import MeterState


class MeterStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"
    SILENT = "silent"
    """No valid reading within stale_after_s (or none yet)."""


def meter_status(
    state: MeterState, reported: Availability | None, now_ms: int, stale_after_ms: int
) -> MeterStatus:
    """A fault standing in the ledger first (every fault a device reports comes as a reading),
    then what the device says of its link, then whether its readings are fresh."""
    if state.faulty_at(now_ms):
        return MeterStatus.FAULT
    if reported is Availability.OFFLINE:
        return MeterStatus.OFFLINE
    if state.baseline is None or now_ms - state.baseline.t_ms > stale_after_ms:
        return MeterStatus.SILENT
    return MeterStatus.ONLINE
