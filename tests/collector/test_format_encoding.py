"""Every device format's encoding (what the simulator publishes), round-tripped through the
router: the readings that come out are the values that went in, exactly, and a garbled frame is
refused for the reason its garble implies."""

from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from collector.formats import Channel, Frame, Garble, encode
from collector.formats.encoding import dump
from collector.message import Message
from collector.router import Outcome, Router
from levy.core.model import Measure, Reading, Rejection, RejectReason
from levy.core.units import kwh_to_mj, w_to_mw
from tests.collector.support import ALMATY, Meter, utc_ms

TS = utc_ms(2026, 11, 24, 23, 21, 42) + 63
RECEIVED = TS + 500
ENERGY = Decimal("12345.67890123")
POWER = Decimal("2987.654")
E = Measure.ENERGY

NATIVE = Meter("rig-n", "sim/site/rig-n", "native", measure=E)
TASMOTA = Meter("rig-t", "tele/rig-t/SENSOR", "tasmota", measure=E)
SHELLY = Meter("rig-s", "shellies/rig-s", "shelly", component="switch:0", measure=E)
ZIGBEE = Meter("rig-z", "zigbee2mqtt/rig-z", "zigbee2mqtt", measure=E)
MBMD = Meter("rig-m", "mbmd/sdm1-1", "mbmd", measure=E)
SINGLE = [NATIVE, TASMOTA, SHELLY, ZIGBEE, MBMD]


def frame(*specs: Meter, fault: bool = False, garble: Garble | None = None) -> Frame:
    channels = tuple(Channel(spec, ENERGY, POWER) for spec in specs)
    return Frame(specs[0].format, specs[0].topic, TS, channels, fault, garble)


def route(
    frame_: Frame, specs: list[Meter], zone: ZoneInfo = ALMATY
) -> list[tuple[Message, list[Outcome]]]:
    router = Router(specs, zone)
    return [(m, router.route(m.topic, m.payload, RECEIVED)) for m in encode(frame_, zone)]


def readings(frame_: Frame, *specs: Meter) -> list[Outcome]:
    return [outcome for _, outcomes in route(frame_, list(specs)) for outcome in outcomes]


def reading(meter: str, ts_ms: int, energy: bool = True, power: bool = True) -> Reading:
    return Reading(
        meter,
        ts_ms,
        RECEIVED,
        kwh_to_mj(ENERGY) if energy else None,
        w_to_mw(POWER) if power else None,
    )


def test_native_carries_its_time_to_the_millisecond() -> None:
    assert readings(frame(NATIVE), NATIVE) == [reading("rig-n", TS)]


def test_native_fault_frame_has_no_values() -> None:
    [message] = encode(frame(NATIVE, fault=True), ALMATY)
    assert message.payload == b'{"ts":1795562502.063,"fault":true}'
    assert readings(frame(NATIVE, fault=True), NATIVE) == [
        Reading("rig-n", TS, RECEIVED, fault=True)
    ]


def test_tasmota_time_is_local_naive_and_whole_seconds() -> None:
    [message] = encode(frame(TASMOTA), ALMATY)
    assert message.payload.startswith(b'{"Time":"2026-11-25T04:21:42","ENERGY":{"Total":12345.6')
    assert readings(frame(TASMOTA), TASMOTA) == [reading("rig-t", TS - 63)]


def test_tasmota_time_follows_the_site_zone() -> None:
    zone = ZoneInfo("Europe/Berlin")
    [(message, outcomes)] = route(frame(TASMOTA), [TASMOTA], zone)
    assert b'"Time":"2026-11-25T00:21:42"' in message.payload
    assert outcomes == [reading("rig-t", TS - 63)]


def test_tasmota_channels_of_one_device_share_one_message_with_arrays() -> None:
    first = replace(TASMOTA, id="rig-t1", channel=1)
    third = replace(TASMOTA, id="rig-t3", channel=3, measure=Measure.POWER)
    [(message, outcomes)] = route(frame(first, third), [first, third])
    assert b'"Total":[12345.67890123,0,12345.67890123]' in message.payload
    assert outcomes == [reading("rig-t1", TS - 63), reading("rig-t3", TS - 63)]


def test_shelly_status_per_component_in_wh_read_at_receive_time() -> None:
    power_meter = replace(SHELLY, id="rig-s1", component="switch:1", measure=Measure.POWER)
    routed = route(frame(SHELLY, power_meter), [SHELLY, power_meter])
    assert [message.topic for message, _ in routed] == [
        "shellies/rig-s/status/switch:0",
        "shellies/rig-s/status/switch:1",
    ]
    assert routed[0][0].payload == (
        b'{"id":0,"apower":2987.654,"aenergy":{"total":12345678.90123000}}'
    )
    assert [outcome for _, outcomes in routed for outcome in outcomes] == [
        reading("rig-s", RECEIVED),
        reading("rig-s1", RECEIVED),
    ]


def test_shelly_pro_3em_components() -> None:
    em = replace(SHELLY, id="rig-em", component="em:0", measure=Measure.POWER)
    emdata = replace(SHELLY, id="rig-emdata", component="emdata:0")
    assert readings(frame(em, emdata), em, emdata) == [
        reading("rig-em", RECEIVED, energy=False),
        reading("rig-emdata", RECEIVED, power=False),
    ]


def test_shelly_fault_is_a_non_empty_errors_list() -> None:
    [message] = encode(frame(SHELLY, fault=True), ALMATY)
    assert message.payload.endswith(b',"errors":["overtemp"]}')
    [outcome] = readings(frame(SHELLY, fault=True), SHELLY)
    assert isinstance(outcome, Reading) and outcome.fault


def test_zigbee2mqtt_last_seen_is_utc_with_milliseconds() -> None:
    [message] = encode(frame(ZIGBEE), ALMATY)
    assert message.payload.endswith(b'"last_seen":"2026-11-24T23:21:42.063Z"}')
    assert readings(frame(ZIGBEE), ZIGBEE) == [reading("rig-z", TS)]


@pytest.mark.parametrize("measure", list(Measure))
def test_mbmd_publishes_import_and_power_as_plain_numbers(measure: Measure) -> None:
    meter = replace(MBMD, measure=measure)
    routed = route(frame(meter), [meter])
    assert [(m.topic, m.payload) for m, _ in routed] == [
        ("mbmd/sdm1-1/Import", b"12345.67890123"),
        ("mbmd/sdm1-1/Power", b"2987.654"),
    ]
    energy = measure is Measure.ENERGY
    assert [outcomes for _, outcomes in routed] == [
        [reading("rig-m", RECEIVED, power=False)] if energy else [],
        [] if energy else [reading("rig-m", RECEIVED, energy=False)],
    ]


EXPECTED_REJECTION = {
    Garble.TRUNCATED: RejectReason.BAD_JSON,
    Garble.NAN: RejectReason.NON_FINITE,
    Garble.NEGATIVE: RejectReason.NEGATIVE,
    Garble.STRING: RejectReason.WRONG_TYPE,
}


@pytest.mark.parametrize("garble", list(Garble))
@pytest.mark.parametrize("measure", list(Measure))
@pytest.mark.parametrize("spec", SINGLE, ids=lambda spec: spec.format)
def test_garbled_frames_are_refused_for_their_meter(
    spec: Meter, measure: Measure, garble: Garble
) -> None:
    meter = replace(spec, measure=measure)
    outcomes = readings(frame(meter, garble=garble), meter)
    expected = EXPECTED_REJECTION[garble]
    if spec.format == "mbmd" and garble is Garble.TRUNCATED:
        expected = RejectReason.WRONG_TYPE  # an empty plain-text payload is no number
    assert [(type(o), o.reason, o.meter) for o in outcomes if isinstance(o, Rejection)] == [
        (Rejection, expected, meter.id)
    ]
    assert not [o for o in outcomes if isinstance(o, Reading)]


def test_dump_writes_decimals_exactly_and_nan_bare() -> None:
    document = {"a": Decimal("0.1000000000000000055511151231257827"), "b": [True, 3, "x"]}
    assert dump(document) == '{"a":0.1000000000000000055511151231257827,"b":[true,3,"x"]}'
    assert dump(Decimal("NaN")) == "NaN"
