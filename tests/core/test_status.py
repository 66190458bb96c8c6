"""The operator's status of a meter: a fault first, then the device's own word, then freshness."""

import pytest

from levy.core.model import Availability
from levy.core.rules import Baseline, MeterState
from levy.core.status import MeterStatus, meter_status

STALE = 900_000
NOW = 10_000_000
FRESH = MeterState(0, Baseline(NOW - STALE, 5))


@pytest.mark.parametrize(
    ("state", "reported", "status"),
    [
        (FRESH, None, MeterStatus.ONLINE),
        (FRESH, Availability.ONLINE, MeterStatus.ONLINE),
        (MeterState(0, Baseline(NOW - STALE - 1, 5)), None, MeterStatus.SILENT),
        (MeterState(0), Availability.ONLINE, MeterStatus.SILENT),
        (FRESH, Availability.OFFLINE, MeterStatus.OFFLINE),
        (MeterState(0, Baseline(0, 5)), Availability.OFFLINE, MeterStatus.OFFLINE),
        (MeterState(0, Baseline(NOW - 1, 5), faults=(NOW - 5,)), None, MeterStatus.FAULT),
        (MeterState(0, faults=(NOW - 5,)), Availability.OFFLINE, MeterStatus.FAULT),
        (MeterState(0, Baseline(NOW - 1, 5), faults=(NOW,)), None, MeterStatus.ONLINE),
    ],
)
def test_meter_status(state: MeterState, reported, status: MeterStatus) -> None:
    assert meter_status(state, reported, NOW, STALE) is status
