"""The router's own contract: topic table, unknown topics, and bindings it refuses."""

import pytest

from collector.router import Router
from levy.core.model import Measure, Reading, Rejection, RejectReason
from tests.collector.support import ALMATY, RECEIVED, Meter, router

FLEET = (
    Meter("rig-1", "mining/site/rig-1", "native"),
    Meter("pow-1", "tele/pow-1/SENSOR", "tasmota"),
    Meter("pow-2", "tele/pow-2/SENSOR", "tasmota", channel=2, measure=Measure.POWER),
    Meter("relay", "shellyplus1pm-a8032abe54dc", "shelly"),
    Meter("em", "shellypro3em-x", "shelly", component="emdata:0"),
    Meter("plug", "zigbee2mqtt/plug", "zigbee2mqtt"),
    Meter("sdm", "mbmd/sdm1-1", "mbmd"),
)


def test_topics_lists_every_exact_topic() -> None:
    assert router(*FLEET).topics() == [
        "mbmd/sdm1-1/Import",
        "mbmd/sdm1-1/Power",
        "mbmd/status",
        "mining/site/rig-1",
        "shellyplus1pm-a8032abe54dc/events/rpc",
        "shellyplus1pm-a8032abe54dc/online",
        "shellyplus1pm-a8032abe54dc/status/switch:0",
        "shellypro3em-x/events/rpc",
        "shellypro3em-x/online",
        "shellypro3em-x/status/emdata:0",
        "tele/pow-1/LWT",
        "tele/pow-1/SENSOR",
        "tele/pow-2/LWT",
        "tele/pow-2/SENSOR",
        "zigbee2mqtt/plug",
        "zigbee2mqtt/plug/availability",
    ]


def test_unknown_topic() -> None:
    assert router(*FLEET).route("mining/site/rig-2", b'{"energy_kwh": 1}', RECEIVED) == [
        Rejection(RejectReason.UNKNOWN_METER, "no meter on topic 'mining/site/rig-2'")
    ]


def test_native_topics_have_no_side_topics() -> None:
    [rejection] = router(*FLEET).route("mining/site/rig-1/extra", b"{}", RECEIVED)
    assert rejection.reason is RejectReason.UNKNOWN_METER


def test_side_topics_of_known_devices_give_nothing() -> None:
    route = router(*FLEET).route
    assert route("shellyplus1pm-a8032abe54dc/status/sys", b"{}", RECEIVED) == []
    assert route("shellyplus1pm-a8032abe54dc/status/switch:1", b"{}", RECEIVED) == []
    assert route("tele/pow-1/STATE", b"{}", RECEIVED) == []
    assert route("zigbee2mqtt/plug/set", b"{}", RECEIVED) == []
    assert route("mbmd/sdm1-1/Current/L2", b"1.000", RECEIVED) == []


def test_measure_may_come_as_plain_text() -> None:
    meter = Meter("rig-1", "mining/site/rig-1", "native", measure="power")  # type: ignore[arg-type]
    assert router(meter).route(meter.topic, b'{"power_w": 5}', RECEIVED) == [
        Reading("rig-1", RECEIVED, RECEIVED, power_mw=5_000)
    ]


def test_unpinned_shelly_and_mbmd_bill_on_the_register_their_device_reports() -> None:
    # A component's kind, and mbmd's separate Import and Power topics, fix what is billed: the
    # first message must not decide. A Shelly em:N has no register, so it is billed on power.
    route = router(
        Meter("relay", "shelly-r", "shelly"),
        Meter("em", "shelly-e", "shelly", component="em:0"),
        Meter("sdm", "mbmd/sdm1-1", "mbmd"),
    ).route
    assert route("shelly-r/status/switch:0", b'{"apower": 5}', RECEIVED) == []
    assert route("shelly-e/status/em:0", b'{"total_act_power": 5}', RECEIVED) == [
        Reading("em", RECEIVED, RECEIVED, power_mw=5_000)
    ]
    assert route("mbmd/sdm1-1/Power", b"5.000", RECEIVED) == []
    assert route("mbmd/sdm1-1/Import", b"5.000", RECEIVED) == [
        Reading("sdm", RECEIVED, RECEIVED, energy_mj=18_000_000_000)
    ]


@pytest.mark.parametrize(
    ("meter", "problem"),
    [
        (Meter("x", "x", "modbus"), "unknown format"),
        (Meter("x", "tele/x/SENSOR", "tasmota", channel=0), "channel"),
        (Meter("x", "shelly-x", "shelly", component="light:0"), "not one of"),
        (Meter("x", "shelly-x", "shelly", component="switch"), "not one of"),
        (
            Meter("x", "shelly-x", "shelly", component="em:0", measure=Measure.ENERGY),
            "reports no energy",
        ),
        (
            Meter("x", "shelly-x", "shelly", component="emdata:0", measure=Measure.POWER),
            "reports no power",
        ),
    ],
)
def test_bindings_that_could_never_give_a_reading(meter: Meter, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Router([meter], ALMATY)


def test_one_topic_claimed_by_two_formats() -> None:
    meters = [Meter("a", "tele/x/LWT", "native"), Meter("b", "tele/x/SENSOR", "tasmota")]
    with pytest.raises(ValueError, match="claimed twice"):
        Router(meters, ALMATY)


def test_only_a_format_that_keeps_state_makes_a_router_stateful() -> None:
    """Shelly merges partial status frames onto what earlier ones said; no other format does,
    so their messages may be routed apart (replay's reading process and its engine's)."""
    assert router(
        Meter("a", "site/a", "native"),
        Meter("pow", "tele/pow/SENSOR", "tasmota"),
        Meter("z", "zigbee2mqtt/plug", "zigbee2mqtt"),
        Meter("m", "mbmd", "mbmd", channel=1),
    ).stateless
    assert not router(Meter("s", "shellies/one", "shelly")).stateless
