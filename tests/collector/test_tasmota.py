"""Tasmota: tele/<device>/SENSOR energy telemetry and the tele/<device>/LWT will."""

from collector.router import StatusChange
from levy.core.model import Availability, Measure, Reading, RejectReason
from tests.collector.support import RECEIVED, Meter, local_ms, reading_times, router, utc_ms

POW = Meter("pow1", "tele/pow1/SENSOR", "tasmota")
POW_POWER = Meter("pow1-power", "tele/pow1/SENSOR", "tasmota", measure=Measure.POWER)
POW_ENERGY = Meter("pow1-energy", "tele/pow1/SENSOR", "tasmota", measure=Measure.ENERGY)

# Tasmota documentation, Home Assistant page, "Power Monitoring > Periodical updates":
# https://tasmota.github.io/docs/Home-Assistant/ (tasmota/docs repository)
POW1_SENSOR = (
    b'{"Time":"2018-02-14T21:51:31","ENERGY":{"Total":0.984,"Yesterday":0.000,"Today":0.984,'
    b'"Period":12,"Power":145,"Factor":0.90,"Voltage":220,"Current":0.731}}'
)

# The same shape with Tasmota's `Time` at a 2026 date and the multi-channel arrays of a two-channel
# device, as DESIGN.md section 4 describes them ("Total": [0.0, 2.91]). Tasmota's own docs show
# no multi-channel SENSOR message; the layout (one element per channel, Voltage and Frequency
# shared) follows its energy driver, xdrv_03_energy.ino in arendst/Tasmota.
DUAL_SENSOR = (
    b'{"Time":"2026-11-25T04:21:42","Switch1":"ON","Switch2":"ON","ENERGY":{'
    b'"TotalStartTime":"2026-04-03T18:52:24","Total":[0.0,2.91],"Yesterday":[0.000,0.648],'
    b'"Today":[0.000,0.197],"Period":[0,0],"Power":[0,26],"ApparentPower":[0,43],'
    b'"ReactivePower":[0,33],"Factor":[0.00,0.62],"Frequency":50.016,"Voltage":225,'
    b'"Current":[0.000,0.189]}}'
)


def test_documented_sensor_message() -> None:
    [reading] = router(POW).route(POW.topic, POW1_SENSOR, RECEIVED)
    # `Time` is naive local time: read in the site zone (Almaty was UTC+6 in 2018).
    assert reading == Reading(
        "pow1",
        local_ms(2018, 2, 14, 21, 51, 31),
        RECEIVED,
        energy_mj=3_542_400_000,
        power_mw=145_000,
    )


def test_energy_and_power_meters_on_one_device() -> None:
    outcomes = router(POW, POW_POWER).route(POW.topic, POW1_SENSOR, RECEIVED)
    assert [(o.meter, o.energy_mj, o.power_mw) for o in outcomes] == [
        ("pow1", 3_542_400_000, 145_000),
        ("pow1-power", 3_542_400_000, 145_000),
    ]


def test_multi_channel_arrays_feed_one_meter_per_channel() -> None:
    one = Meter("dual-1", "tele/dual/SENSOR", "tasmota", channel=1)
    two = Meter("dual-2", "tele/dual/SENSOR", "tasmota", channel=2)
    outcomes = router(one, two).route(one.topic, DUAL_SENSOR, RECEIVED)
    moment = utc_ms(2026, 11, 24, 23, 21, 42)  # 04:21:42 in Almaty, UTC+5
    assert outcomes == [
        Reading("dual-1", moment, RECEIVED, energy_mj=0, power_mw=0),
        Reading("dual-2", moment, RECEIVED, energy_mj=10_476_000_000, power_mw=26_000),
    ]


def test_channel_the_device_does_not_have() -> None:
    three = Meter("dual-3", "tele/dual/SENSOR", "tasmota", channel=3)
    [rejection] = router(three).route(three.topic, DUAL_SENSOR, RECEIVED)
    assert (rejection.reason, rejection.meter) == (RejectReason.MISSING_FIELD, "dual-3")
    assert "2 channels" in rejection.detail


def test_a_single_total_cannot_be_billed_to_channel_two() -> None:
    two = Meter("pow1-2", "tele/pow1/SENSOR", "tasmota", channel=2)
    [rejection] = router(two).route(two.topic, POW1_SENSOR, RECEIVED)
    assert rejection.reason is RejectReason.MISSING_FIELD


def test_broken_payload_is_one_rejection_per_meter_on_the_topic() -> None:
    one = Meter("dual-1", "tele/dual/SENSOR", "tasmota", channel=1)
    two = Meter("dual-2", "tele/dual/SENSOR", "tasmota", channel=2)
    outcomes = router(one, two).route(one.topic, b'{"Time":', RECEIVED)
    assert [(o.reason, o.meter) for o in outcomes] == [
        (RejectReason.BAD_JSON, "dual-1"),
        (RejectReason.BAD_JSON, "dual-2"),
    ]


def test_sensor_message_without_energy() -> None:
    # tasmota/docs, MQTT page: `tele/tasmota/SENSOR {"Time":"2017-02-16T10:13:52", "DS18B20":...}`
    payload = b'{"Time":"2017-02-16T10:13:52", "DS18B20":{"Temperature":20.6}}'
    [rejection] = router(POW).route(POW.topic, payload, RECEIVED)
    assert rejection.reason is RejectReason.MISSING_FIELD


def test_unpinned_meter_takes_what_the_channel_has_and_pinned_ones_need_theirs() -> None:
    route = router(POW, POW_ENERGY, POW_POWER).route
    power_only = b'{"ENERGY":{"Power":145}}'
    assert [(o.meter, type(o).__name__) for o in route(POW.topic, power_only, RECEIVED)] == [
        ("pow1", "Reading"),
        ("pow1-energy", "Rejection"),
        ("pow1-power", "Reading"),
    ]
    [unpinned, pinned, _] = route(POW.topic, power_only, RECEIVED)
    assert (unpinned.energy_mj, unpinned.power_mw) == (None, 145_000)
    assert (pinned.reason, pinned.detail) == (RejectReason.MISSING_FIELD, "ENERGY.Total is missing")
    [rejection] = router(POW).route(POW.topic, b'{"ENERGY":{"Today":0.1}}', RECEIVED)
    assert (rejection.reason, rejection.detail) == (
        RejectReason.MISSING_FIELD,
        "neither ENERGY.Total nor ENERGY.Power is present",
    )


def test_naive_time_in_the_skipped_hour_is_the_reading_nearest_receipt() -> None:
    # Europe/Berlin skips 02:00-03:00 on 2026-03-29 (01:00Z): 02:30 is 00:30Z or 01:30Z.
    payload = b'{"Time":"2026-03-29T02:30:00","ENERGY":{"Total":1}}'
    received = (utc_ms(2026, 3, 29, 0, 31), utc_ms(2026, 3, 29, 1, 31))
    assert reading_times(POW, payload, *received) == [r - 60_000 for r in received]


def test_values_are_checked() -> None:
    route = router(POW, POW_POWER).route
    bad_total = b'{"ENERGY":{"Total":true,"Power":145}}'
    assert {o.reason for o in route(POW.topic, bad_total, RECEIVED)} == {RejectReason.WRONG_TYPE}
    negative = b'{"ENERGY":{"Total":1,"Power":-3}}'
    assert {o.reason for o in route(POW.topic, negative, RECEIVED)} == {RejectReason.NEGATIVE}
    energy_list = b'{"ENERGY":[1,2]}'
    assert {o.reason for o in route(POW.topic, energy_list, RECEIVED)} == {RejectReason.WRONG_TYPE}


def test_time_with_offset_and_without_time() -> None:
    with_offset = b'{"Time":"2026-11-25T04:21:42+05:00","ENERGY":{"Total":1}}'
    assert router(POW).route(POW.topic, with_offset, RECEIVED)[0].ts_ms == utc_ms(
        2026, 11, 24, 23, 21, 42
    )
    assert router(POW).route(POW.topic, b'{"ENERGY":{"Total":1}}', RECEIVED)[0].ts_ms == RECEIVED


def test_last_will() -> None:
    # tasmota/docs, Home Assistant page: availability_topic "tele/<device>/LWT",
    # payload_available "Online", payload_not_available "Offline".
    route = router(POW, POW_POWER).route
    assert route("tele/pow1/LWT", b"Offline", RECEIVED) == [
        StatusChange("pow1", Availability.OFFLINE),
        StatusChange("pow1-power", Availability.OFFLINE),
    ]
    assert route("tele/pow1/LWT", b"Online", RECEIVED)[0].status is Availability.ONLINE
    assert route("tele/pow1/LWT", b"maybe", RECEIVED)[0].reason is RejectReason.WRONG_TYPE


def test_other_telemetry_of_a_known_device_is_ignored() -> None:
    # tasmota/docs, DeepSleep page: tele/tasmota/STATE = {"Time":...,"Uptime":...}
    assert router(POW).route("tele/pow1/STATE", b'{"Uptime":"0T00:00:14"}', RECEIVED) == []
