"""Zigbee2MQTT: metering devices' state messages and the availability topic."""

import pytest

from collector.router import StatusChange
from levy.core.model import Availability, Measure, Reading, RejectReason
from tests.collector.support import RECEIVED, Meter, local_ms, reading_times, router, utc_ms

PLUG = Meter("plug", "zigbee2mqtt/rack-7-plug", "zigbee2mqtt")
PLUG_ENERGY = Meter("plug-energy", "zigbee2mqtt/rack-7-plug", "zigbee2mqtt", measure=Measure.ENERGY)
PLUG_POWER = Meter("plug-power", "zigbee2mqtt/rack-7-plug", "zigbee2mqtt", measure=Measure.POWER)

# State of a metering plug: `power` (W) and `energy` (kWh) as its exposes define them, e.g.
# https://www.zigbee2mqtt.io/devices/TS011F_plug_1.html ("Power ... unit W", "Energy ... Sum of
# consumed energy ... unit kWh"), with `last_seen` in the forms of `advanced.last_seen`
# (https://www.zigbee2mqtt.io/guide/configuration/ : disable, ISO_8601, ISO_8601_local, epoch).
STATE = (
    b'{"child_lock":"UNLOCK","current":0.13,"energy":12.34,"indicator_mode":"off",'
    b'"linkquality":120,"power":25,"power_outage_memory":"restore","state":"ON",'
    b'"voltage":231%s}'
)


def state(last_seen: bytes = b"") -> bytes:
    return STATE % last_seen


@pytest.mark.parametrize(
    ("last_seen", "ts_ms"),
    [
        (b"", RECEIVED),
        (b',"last_seen":"2026-11-24T23:21:42.063Z"', utc_ms(2026, 11, 24, 23, 21, 42) + 63),
        (b',"last_seen":"2026-11-25T04:21:42.063+05:00"', utc_ms(2026, 11, 24, 23, 21, 42) + 63),
        (b',"last_seen":1795562502063', utc_ms(2026, 11, 24, 23, 21, 42) + 63),
        (b',"last_seen":"2026-11-25T04:21:42"', local_ms(2026, 11, 25, 4, 21, 42)),
    ],
)
def test_state_message_in_every_last_seen_form(last_seen: bytes, ts_ms: int) -> None:
    [reading] = router(PLUG).route(PLUG.topic, state(last_seen), RECEIVED)
    assert reading == Reading("plug", ts_ms, RECEIVED, energy_mj=44_424_000_000, power_mw=25_000)


def test_state_without_the_billed_value_is_not_a_reading() -> None:
    # A bridge with cache_state: false publishes only what changed.
    route = router(PLUG, PLUG_ENERGY, PLUG_POWER).route
    assert route(PLUG.topic, b'{"linkquality":96}', RECEIVED) == []
    assert route(PLUG.topic, b'{"power":30,"energy":null}', RECEIVED) == [
        Reading("plug", RECEIVED, RECEIVED, power_mw=30_000),  # its first reading decides
        Reading("plug-power", RECEIVED, RECEIVED, power_mw=30_000),
    ]
    assert route(PLUG.topic, b'{"energy":12.34}', RECEIVED) == [
        Reading("plug", RECEIVED, RECEIVED, energy_mj=44_424_000_000),
        Reading("plug-energy", RECEIVED, RECEIVED, energy_mj=44_424_000_000),
    ]


def test_naive_local_last_seen_in_the_repeated_hour_is_the_one_nearest_receipt() -> None:
    # ISO_8601_local without an offset; Berlin's 02:30 came at 00:30Z and again at 01:30Z.
    payload = b'{"energy":1,"last_seen":"2026-10-25T02:30:00"}'
    received = (utc_ms(2026, 10, 25, 0, 31), utc_ms(2026, 10, 25, 1, 31))
    assert reading_times(PLUG, payload, *received) == [r - 60_000 for r in received]


def test_values_and_times_are_checked() -> None:
    route = router(PLUG).route
    assert route(PLUG.topic, b'{"energy":"12.34"}', RECEIVED)[0].reason is RejectReason.WRONG_TYPE
    assert route(PLUG.topic, b'{"energy":-1}', RECEIVED)[0].reason is RejectReason.NEGATIVE
    stale = b'{"energy":1,"last_seen":"not yet"}'
    assert route(PLUG.topic, stale, RECEIVED)[0].reason is RejectReason.BAD_TIMESTAMP
    epoch_seconds = b'{"energy":1,"last_seen":1795562502}'  # seconds where ms are expected
    assert route(PLUG.topic, epoch_seconds, RECEIVED)[0].reason is RejectReason.BAD_TIMESTAMP
    assert route(PLUG.topic, b"ON", RECEIVED)[0].reason is RejectReason.BAD_JSON


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        # https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
        (b'{"state":"online"}', Availability.ONLINE),
        (b'{"state":"offline"}', Availability.OFFLINE),
        (b"online", Availability.ONLINE),  # legacy_availability_payload: true
        (b"offline", Availability.OFFLINE),
    ],
)
def test_availability(payload: bytes, status: Availability) -> None:
    route = router(PLUG, PLUG_POWER).route
    assert route(f"{PLUG.topic}/availability", payload, RECEIVED) == [
        StatusChange("plug", status),
        StatusChange("plug-power", status),
    ]


def test_unexpected_availability_payload() -> None:
    route = router(PLUG).route
    for payload, reason in [
        (b'{"state":"asleep"}', RejectReason.WRONG_TYPE),
        (b'{"state":1}', RejectReason.WRONG_TYPE),
        (b"{", RejectReason.BAD_JSON),
    ]:
        [rejection] = route(f"{PLUG.topic}/availability", payload, RECEIVED)
        assert (rejection.reason, rejection.meter) == (reason, "plug")
