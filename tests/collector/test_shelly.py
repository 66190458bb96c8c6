"""Shelly Gen2/Gen3: component statuses, NotifyStatus merging, the Pro 3EM and the will."""

from collector.message import Message
from collector.router import StatusChange
from levy.app.ingest import observe_rest
from levy.core.model import Availability, Measure, Reading, RejectReason
from tests.collector.support import RECEIVED, Meter, router

PREFIX = "shellypro4pm-f008d1d8b8b8"
RELAY_0 = Meter("rig-a", PREFIX, "shelly")  # component defaults to switch:0
RELAY_1 = Meter("rig-b", PREFIX, "shelly", component="switch:1", measure=Measure.POWER)

# Switch.GetStatus example, https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch
# (the same object the device publishes on <prefix>/status/switch:0); aenergy.total is in Wh.
SWITCH_STATUS = (
    b'{"id":0,"source":"timer","output":true,"timer_started_at":1626935739.79,'
    b'"timer_duration":60,"apower":8.9,"voltage":237.5,"aenergy":{"total":6.532,'
    b'"by_minute":[45.199,47.141,88.397],"minute_ts":1626935779},'
    b'"temperature":{"tC":23.5,"tF":74.4}}'
)
SWITCH_ENERGY_MJ = 23_515_200  # 6.532 Wh

# NotifyStatus Example 1, https://shelly-api-docs.shelly.cloud/gen2/General/Notifications
# ("Notify that a button has changed the output state of the switch with id=0").
NOTIFY_OUTPUT = (
    b'{"src":"shellypro4pm-f008d1d8b8b8","dst":"user_1","method":"NotifyStatus",'
    b'"params":{"ts":1631186545.04,"switch:0":{"id":0,"output":true,"source":"button"}}}'
)
NOTIFY_TS = 1_631_186_545_040

# NotifyStatus Example 2, same page ("lost connection to the cloud").
NOTIFY_CLOUD = (
    b'{"src":"shellypro4pm-f008d1d8b8b8","dst":"user_1","method":"NotifyStatus",'
    b'"params":{"ts":1624348482.25,"cloud":{"connected":false}}}'
)

# EM.GetStatus example, https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM
# (Pro 3EM, <prefix>/status/em:0), with the documented "phase_sequence" error.
EM_STATUS = (
    b'{"id":0,"a_current":4.029,"a_voltage":236.1,"a_act_power":951.2,"a_aprt_power":951.9,'
    b'"a_pf":1,"a_freq":50,"b_current":4.027,"b_voltage":236.201,"b_act_power":-951.1,'
    b'"b_aprt_power":951.8,"b_pf":1,"b_freq":50,"c_current":3.03,"c_voltage":236.402,'
    b'"c_active_power":715.4,"c_aprt_power":716.2,"c_pf":1,"c_freq":50,"n_current":11.029,'
    b'"total_current":11.083,"total_act_power":2484.782,"total_aprt_power":2486.7,'
    b'"user_calibrated_phase":[],"errors":["phase_sequence"]}'
)

# EMData.GetStatus example, https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EMData
EMDATA_STATUS = (
    b'{"id":0,"a_total_act_energy":0,"a_total_act_ret_energy":0,"b_total_act_energy":0,'
    b'"b_total_act_ret_energy":0,"c_total_act_energy":0,"c_total_act_ret_energy":0,'
    b'"total_act":0,"total_act_ret":0}'
)

# EM1Data.GetStatus example, https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM1Data
EM1DATA_STATUS = b'{"id":0,"total_act_energy":2776175.11,"total_act_ret_energy":571584.87}'

# A Pro EM's em1:1 status as posted in https://github.com/evcc-io/evcc/discussions/12385
EM1_STATUS = (
    b'{"id":1,"current":22.780,"voltage":224.6,"act_power":5080.3,"aprt_power":5142.4,'
    b'"pf":0.99,"freq":50.0,"calibration":"factory"}'
)


def notify(ts: str, changes: str) -> bytes:
    """A NotifyStatus frame shaped like the documented examples above."""
    frame = f'{{"src":"{PREFIX}","dst":"user_1","method":"NotifyStatus","params":{{"ts":{ts},{changes}}}}}'
    return frame.encode()


def test_switch_status_topic_has_no_time_of_its_own() -> None:
    [reading] = router(RELAY_0).route(f"{PREFIX}/status/switch:0", SWITCH_STATUS, RECEIVED)
    assert reading == Reading("rig-a", RECEIVED, RECEIVED, SWITCH_ENERGY_MJ, 8_900)


def test_partial_notification_before_any_status_gives_nothing() -> None:
    assert router(RELAY_0).route(f"{PREFIX}/events/rpc", NOTIFY_OUTPUT, RECEIVED) == []


def test_partial_notification_is_merged_onto_the_last_status() -> None:
    route = router(RELAY_0).route
    route(f"{PREFIX}/status/switch:0", SWITCH_STATUS, RECEIVED)
    [reading] = route(f"{PREFIX}/events/rpc", NOTIFY_OUTPUT, RECEIVED + 5)
    # The register did not change, so it is not in the frame; the merged status still holds it.
    assert reading == Reading("rig-a", NOTIFY_TS, RECEIVED + 5, SWITCH_ENERGY_MJ, 8_900)


def test_nested_fields_merge_and_null_removes() -> None:
    route = router(RELAY_0).route
    route(f"{PREFIX}/status/switch:0", SWITCH_STATUS, RECEIVED)
    frame = notify("1631186600.5", '"switch:0":{"aenergy":{"total":7.0},"apower":null}')
    [reading] = route(f"{PREFIX}/events/rpc", frame, RECEIVED)
    assert (reading.ts_ms, reading.energy_mj, reading.power_mw) == (
        1_631_186_600_500,
        25_200_000,
        None,
    )


def test_one_frame_for_two_switches_gives_one_outcome_per_meter() -> None:
    route = router(RELAY_0, RELAY_1).route
    frame = notify(
        "1631186545.04",
        '"switch:0":{"aenergy":{"total":1000},"apower":3250},"switch:1":{"apower":3100.5}',
    )
    assert route(f"{PREFIX}/events/rpc", frame, RECEIVED) == [
        Reading("rig-a", NOTIFY_TS, RECEIVED, 3_600_000_000, 3_250_000),
        Reading("rig-b", NOTIFY_TS, RECEIVED, None, 3_100_500),
    ]


def test_change_of_a_field_not_billed_while_the_billed_one_is_unknown() -> None:
    route = router(RELAY_1).route
    assert (
        route(f"{PREFIX}/events/rpc", notify("1631186545", '"switch:1":{"voltage":230}'), RECEIVED)
        == []
    )


def test_errors_are_a_fault_until_cleared() -> None:
    route = router(RELAY_0).route
    route(f"{PREFIX}/status/switch:0", SWITCH_STATUS, RECEIVED)
    [faulty] = route(
        f"{PREFIX}/events/rpc", notify("1631186545", '"switch:0":{"errors":["overpower"]}'), 0
    )
    assert faulty.fault is True
    [fine] = route(f"{PREFIX}/events/rpc", notify("1631186546", '"switch:0":{"errors":null}'), 0)
    assert fine.fault is False


def test_frames_that_concern_no_meter() -> None:
    route = router(RELAY_0).route
    assert route(f"{PREFIX}/events/rpc", NOTIFY_CLOUD, RECEIVED) == []
    event = b'{"src":"x","method":"NotifyEvent","params":{"ts":1631266595.44,"events":[]}}'
    assert route(f"{PREFIX}/events/rpc", event, RECEIVED) == []
    assert route(f"{PREFIX}/status/sys", b'{"mac":"08F9E0E67204"}', RECEIVED) == []


def test_broken_frames_are_rejected_for_every_meter_of_the_device() -> None:
    route = router(RELAY_0, RELAY_1).route
    outcomes = route(f"{PREFIX}/events/rpc", b'{"method":"NotifyStatus"}', RECEIVED)
    assert [(o.reason, o.meter) for o in outcomes] == [
        (RejectReason.MISSING_FIELD, "rig-a"),
        (RejectReason.MISSING_FIELD, "rig-b"),
    ]
    bad_ts = notify('"soon"', '"switch:0":{"apower":1}')
    assert {o.reason for o in route(f"{PREFIX}/events/rpc", bad_ts, RECEIVED)} == {
        RejectReason.WRONG_TYPE
    }
    not_object = notify("1631186545", '"switch:1":[1]')
    assert route(f"{PREFIX}/events/rpc", not_object, RECEIVED)[0].meter == "rig-b"


def test_values_are_checked() -> None:
    route = router(RELAY_0).route
    status = b'{"id":0,"apower":false,"aenergy":{"total":6.532}}'
    [rejection] = route(f"{PREFIX}/status/switch:0", status, RECEIVED)
    assert rejection.reason is RejectReason.WRONG_TYPE
    status = b'{"id":0,"aenergy":{"total":-1}}'
    assert route(f"{PREFIX}/status/switch:0", status, RECEIVED)[0].reason is RejectReason.NEGATIVE
    status = b'{"id":0,"aenergy":7}'
    assert route(f"{PREFIX}/status/switch:0", status, RECEIVED)[0].reason is RejectReason.WRONG_TYPE
    status = b'{"id":0,"errors":"overtemp"}'
    assert route(f"{PREFIX}/status/switch:0", status, RECEIVED)[0].reason is RejectReason.WRONG_TYPE


def test_pro_3em_power_and_energy() -> None:
    power = Meter("pro3em-p", "shellypro3em-abc", "shelly", component="em:0", measure=Measure.POWER)
    energy = Meter("pro3em-e", "shellypro3em-abc", "shelly", component="emdata:0")
    route = router(power, energy).route
    [reading] = route("shellypro3em-abc/status/em:0", EM_STATUS, RECEIVED)
    assert reading == Reading("pro3em-p", RECEIVED, RECEIVED, None, 2_484_782, fault=True)
    [reading] = route("shellypro3em-abc/status/emdata:0", EMDATA_STATUS, RECEIVED)
    assert reading == Reading("pro3em-e", RECEIVED, RECEIVED, 0, None)
    frame = notify("1757060280.21", '"emdata:0":{"total_act":26289.57,"total_act_ret":131881.86}')
    [reading] = route("shellypro3em-abc/events/rpc", frame, RECEIVED)
    assert (reading.ts_ms, reading.energy_mj) == (1_757_060_280_210, 94_642_452_000)


def test_pro_em_channels() -> None:
    power = Meter(
        "proem-p", "shellyproem50-abc", "shelly", component="em1:1", measure=Measure.POWER
    )
    energy = Meter("proem-e", "shellyproem50-abc", "shelly", component="em1data:0")
    route = router(power, energy).route
    assert route("shellyproem50-abc/status/em1:1", EM1_STATUS, RECEIVED)[0].power_mw == 5_080_300
    [reading] = route("shellyproem50-abc/status/em1data:0", EM1DATA_STATUS, RECEIVED)
    assert reading.energy_mj == 9_994_230_396_000


def test_online_will() -> None:
    # https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt: <prefix>/online is
    # true on connect and false as the last will.
    route = router(RELAY_0, RELAY_1).route
    assert route(f"{PREFIX}/online", b"false", RECEIVED) == [
        StatusChange("rig-a", Availability.OFFLINE),
        StatusChange("rig-b", Availability.OFFLINE),
    ]
    assert route(f"{PREFIX}/online", b"true", RECEIVED)[0].status is Availability.ONLINE
    assert route(f"{PREFIX}/online", b"1", RECEIVED)[0].reason is RejectReason.WRONG_TYPE


def test_a_status_another_router_routed_is_kept_by_observing_it() -> None:
    """Replay shares a batch's statuses between two routers (see `Router.shares`): the one that
    observes a status merges a later frame onto it as if it had routed it."""
    status, events = f"{PREFIX}/status/switch:0", f"{PREFIX}/events/rpc"
    later = notify("1631186600.5", '"switch:0":{"apower":9.5}')
    routing, observing = router(RELAY_0), router(RELAY_0)
    routing.route(status, SWITCH_STATUS, RECEIVED)
    observing.observe(status, SWITCH_STATUS)
    observing.observe(status, b"{broken")  # refused where it is routed: it changes nothing
    [reading] = observing.route(events, later, RECEIVED + 5)
    assert reading == routing.route(events, later, RECEIVED + 5)[0]
    assert (reading.energy_mj, reading.power_mw) == (SWITCH_ENERGY_MJ, 9_500)
    assert observing.shares([status, status]) and not observing.shares([status, events])


def test_of_a_batchs_observed_statuses_the_last_that_routes_is_kept() -> None:
    """The reading process offers them from the last (`observe_rest`), and a topic's earlier
    ones only until one is taken: the frames that follow merge onto what routing every one in
    order would have kept, a broken one changing nothing and the part it routed itself (before
    `start`) left to routing."""
    status, events = f"{PREFIX}/status/switch:0", f"{PREFIX}/events/rpc"
    later = notify("1631186600.5", '"switch:0":{"apower":9.5}')
    older = SWITCH_STATUS.replace(b'"total":6.532', b'"total":1.0')
    routing, observing = router(RELAY_0), router(RELAY_0)
    lines = [
        Message(RECEIVED, topic, payload)
        for topic, payload in (
            (status, b"{not yet"),
            (status, older),
            (status, SWITCH_STATUS),
            (f"{PREFIX}/online", b"true"),
            (status, b"{broken"),
        )
    ]
    for line in lines:
        routing.route(line.topic, line.payload, line.received_ms)
    observing.route(status, b"{not yet", RECEIVED)
    observe_rest(observing, lines, 1)
    [reading] = observing.route(events, later, RECEIVED + 5)
    assert reading == routing.route(events, later, RECEIVED + 5)[0]
    assert (reading.energy_mj, reading.power_mw) == (SWITCH_ENERGY_MJ, 9_500)
