"""mbmd: one plain-text number per topic, and mbmd's own will."""

import pytest

from collector.router import StatusChange
from levy.core.model import Availability, Measure, Reading, RejectReason
from tests.collector.support import RECEIVED, Meter, router

# mbmd publishes `fmt.Sprintf("%.3f", value)` on <topic>/<device>/<Measurement>, the device id
# lowercased with "." as "-" (SDM1.1 -> sdm1-1), and sets the will "<topic>/status" to
# "disconnected" after publishing "connected" (volkszaehler/mbmd server/mqtt.go; README "MQTT
# API": "readings are published at /mbmd/<unique id>/<reading>"). Import is kWh, Power is W
# (meters/measurements.go).
SDM = Meter("sdm630", "mbmd/sdm1-1", "mbmd")
SDM_POWER = Meter("sdm630-power", "mbmd/sdm1-1", "mbmd", measure=Measure.POWER)
OTHER = Meter("sdm72", "mbmd/sdm1-2", "mbmd")


def test_import_feeds_the_energy_meter_and_power_the_power_meter() -> None:
    route = router(SDM, SDM_POWER).route
    assert route("mbmd/sdm1-1/Import", b"1234.567", RECEIVED) == [
        Reading("sdm630", RECEIVED, RECEIVED, energy_mj=4_444_441_200_000)
    ]
    assert route("mbmd/sdm1-1/Power", b"3250.500", RECEIVED) == [
        Reading("sdm630-power", RECEIVED, RECEIVED, power_mw=3_250_500)
    ]


def test_a_value_the_meter_is_not_billed_on_gives_no_outcome() -> None:
    route = router(SDM).route
    assert route("mbmd/sdm1-1/Power", b"3250.500", RECEIVED) == []
    assert route("mbmd/sdm1-1/Voltage/L1", b"231.200", RECEIVED) == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"NaN", RejectReason.NON_FINITE),
        (b"+Inf", RejectReason.NON_FINITE),
        (b"-12.000", RejectReason.NEGATIVE),
        (b"twelve", RejectReason.WRONG_TYPE),
        (b"1_234.5", RejectReason.WRONG_TYPE),
        (b"", RejectReason.WRONG_TYPE),
        (b"1" * 70_000, RejectReason.OVERSIZED),
    ],
)
def test_bad_values(payload: bytes, reason: RejectReason) -> None:
    [rejection] = router(SDM).route("mbmd/sdm1-1/Import", payload, RECEIVED)
    assert (rejection.reason, rejection.meter) == (reason, "sdm630")


def test_mbmd_will_concerns_every_device_under_its_root() -> None:
    route = router(SDM, SDM_POWER, OTHER).route
    assert route("mbmd/status", b"disconnected", RECEIVED) == [
        StatusChange("sdm630", Availability.OFFLINE),
        StatusChange("sdm630-power", Availability.OFFLINE),
        StatusChange("sdm72", Availability.OFFLINE),
    ]
    assert route("mbmd/status", b"connected", RECEIVED)[0].status is Availability.ONLINE
    assert route("mbmd/status", b"gone", RECEIVED)[0].reason is RejectReason.WRONG_TYPE


def test_a_device_nobody_bills_is_an_unknown_meter() -> None:
    [rejection] = router(SDM).route("mbmd/sdm2-1/Import", b"5.000", RECEIVED)
    assert (rejection.reason, rejection.meter) == (RejectReason.UNKNOWN_METER, None)
