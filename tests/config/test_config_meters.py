from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from levy.config import MeterFormat, SiteConfig
from levy.core.model import Measure

SITE = '[site]\nid = "site-1"\n'


def meter(**keys: str | int) -> str:
    body = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in keys.items())
    return "[[meters]]\n" + body


def test_shelly_defaults_to_switch_0_and_em_to_power(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE
        + meter(id="a", topic="shellies/plug-a", format="shelly", rated_kw="3.5")
        + meter(id="b", topic="shellies/pro3em", format="shelly", component="em:0", rated_kw="30")
        + meter(id="c", topic="shellies/pro3em", format="shelly", component="emdata:0", rated_kw=30)
    )
    a, b, c = config.meters
    assert (a.format, a.component, a.measure) == (MeterFormat.SHELLY, "switch:0", Measure.ENERGY)
    assert (b.component, b.measure) == ("em:0", Measure.POWER)
    assert (c.component, c.measure) == ("emdata:0", Measure.ENERGY)


def test_measure_is_left_to_the_first_reading_unless_the_device_always_has_a_register(
    load: Callable[[str], SiteConfig],
) -> None:
    config = load(
        SITE
        + meter(id="n", topic="mining/site-1/n", rated_kw="1")
        + meter(id="t", topic="tele/plug/SENSOR", format="tasmota", rated_kw="1")
        + meter(id="z", topic="zigbee2mqtt/plug", format="zigbee2mqtt", rated_kw="1")
        + meter(id="m", topic="mbmd/SDM630-1", format="mbmd", rated_kw="1")
        + meter(id="p", topic="mbmd/SDM630-2", format="mbmd", rated_kw="1", measure="power")
        + meter(id="e", topic="mining/site-1/e", rated_kw="1", measure="energy")
    )
    assert [m.measure for m in config.meters] == [
        None,
        None,
        None,
        Measure.ENERGY,  # Import and Power come on separate topics: the first must not decide
        Measure.POWER,
        Measure.ENERGY,  # pinned
    ]


def test_a_pinned_mbmd_power_meter_is_heard_on_its_power_topic(
    problems: Callable[[str], list[str]],
) -> None:
    found = problems(
        SITE
        + '[mqtt]\ntopics = ["mbmd/+/Import"]\n'
        + meter(id="a", topic="mbmd/SDM-a", format="mbmd", rated_kw="1")
        + meter(id="b", topic="mbmd/SDM-b", format="mbmd", rated_kw="1", measure="power")
    )
    assert found == ["meters[1].topic: no mqtt.topics filter matches 'mbmd/SDM-b/Power'"]


def test_decommissioned_after_commissioning(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE
        + meter(id="a", topic="x/a", rated_kw="1")
        + "commissioned_at = 2026-10-05T00:00:00+05:00\n"
        + "decommissioned_at = 2027-01-10T00:00:00+05:00  # accounted up to here\n"
        + meter(id="b", topic="x/b", rated_kw="1")
        + "decommissioned_at = 2027-01-10\n"
    )
    a, b = config.meters
    assert a.decommissioned_at == datetime(2027, 1, 9, 19, tzinfo=UTC)
    assert (b.commissioned_at, b.decommissioned_at) == (None, datetime(2027, 1, 9, 19, tzinfo=UTC))


def test_decommissioned_in_the_second_pass_of_the_repeated_hour_is_later(
    load: Callable[[str], SiteConfig],
) -> None:
    # Both are 02:30 in Berlin, an hour apart; in one zone Python compares the wall clocks.
    config = load(
        '[site]\nid = "site-1"\ntimezone = "Europe/Berlin"\n'
        + meter(id="a", topic="x/a", rated_kw="1")
        + "commissioned_at = 2026-10-25T02:30:00+02:00\n"
        + "decommissioned_at = 2026-10-25T02:30:00+01:00\n"
    )
    assert config.meters[0].decommissioned_at is not None


@pytest.mark.parametrize("decommissioned", ["2026-10-05T00:00:00+05:00", "2026-10-04"])
def test_decommissioned_no_later_than_commissioned(
    problems: Callable[[str], list[str]], decommissioned: str
) -> None:
    found = problems(
        SITE
        + meter(id="a", topic="x/a", rated_kw="1")
        + f"commissioned_at = 2026-10-05\ndecommissioned_at = {decommissioned}\n"
    )
    assert found == [
        "meters[0].decommissioned_at: should be later than commissioned_at "
        "(2026-10-05T00:00:00+05:00)"
    ]


def test_every_format_and_option(load: Callable[[str], SiteConfig]) -> None:
    config = load(
        SITE
        + meter(id="t:1", topic="tele/plug/SENSOR", format="tasmota", rated_kw="1", channel=2)
        + meter(
            id="z", topic="zigbee2mqtt/plug", format="zigbee2mqtt", rated_kw="1.5", measure="power"
        )
        + meter(id="m.b", topic="mbmd/SDM630-1", format="mbmd", rated_kw="120.001")
    )
    assert [m.format for m in config.meters] == ["tasmota", "zigbee2mqtt", "mbmd"]
    assert config.meters[0].channel == 2
    assert config.meters[1].measure is Measure.POWER
    assert config.meters[2].rated_kw == Decimal("120.001")


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"id": " rig-1"}, "meters[0].id: should not be empty or start or end with a space"),
        ({"id": "rig\n1"}, "meters[0].id: should not hold control characters or line breaks"),
        (
            {"topic": "mining/+/rig"},
            "meters[0].topic: is a topic name, not a filter: no '+' or '#'",
        ),
        ({"topic": ""}, "meters[0].topic: should not be empty"),
        (
            {"format": "modbus"},
            "meters[0].format: Input should be 'native', 'tasmota', 'shelly', "
            "'zigbee2mqtt' or 'mbmd'",
        ),
        (
            {"rated_kw": "3.2505"},
            "meters[0].rated_kw: Decimal input should have no more than 3 decimal places",
        ),
        ({"rated_kw": "0"}, "meters[0].rated_kw: Input should be greater than 0"),
        ({"supply": "solar"}, "meters[0].supply: Input should be 'grid' or 'off_grid'"),
        ({"measure": "volts"}, "meters[0].measure: Input should be 'energy' or 'power'"),
        ({"channel": 2}, "meters[0].channel: only tasmota meters have channels"),
        ({"format": "tasmota", "channel": 0}, "meters[0].channel: Input should be greater than 0"),
        ({"component": "switch:0"}, "meters[0].component: only shelly meters have components"),
        (
            {"format": "shelly", "component": "light:0"},
            "meters[0].component: 'light:0' should be switch:N, em:N or emdata:N",
        ),
        (
            {"format": "shelly", "component": "em:0", "measure": "energy"},
            'meters[0].measure: a Shelly em:N reports power only: use "power", or component '
            "emdata:N",
        ),
        (
            {"format": "shelly", "component": "emdata:1", "measure": "power"},
            "meters[0].measure: a Shelly emdata:N reports energy only",
        ),
        (
            {"format": "mbmd", "topic": "mbmd/SDM630-1/"},
            "meters[0].topic: a mbmd topic is a device prefix: no trailing '/'",
        ),
    ],
)
def test_meter_validation(
    problems: Callable[[str], list[str]], keys: dict[str, str | int], problem: str
) -> None:
    entry = {"id": "rig-0001", "topic": "mining/site-1/rig-0001", "rated_kw": "3.6"} | keys
    assert problems(SITE + meter(**entry)) == [problem]


def test_a_meter_needs_id_topic_and_rated_power(problems: Callable[[str], list[str]]) -> None:
    assert problems(SITE + "[[meters]]\n") == [
        "meters[0].id: required key is missing",
        "meters[0].topic: required key is missing",
        "meters[0].rated_kw: required key is missing",
    ]


def test_a_site_needs_meters(problems: Callable[[str], list[str]]) -> None:
    assert problems(SITE) == ["meters: no meters: add [[meters]] tables or a site.inventory CSV"]


def test_ids_are_unique(problems: Callable[[str], list[str]]) -> None:
    found = problems(
        SITE + meter(id="a", topic="x/1", rated_kw="1") + meter(id="a", topic="x/2", rated_kw="1")
    )
    assert found == ["meters[1].id: 'a' is already used by meters[0]"]


def test_two_meters_cannot_read_the_same_source(problems: Callable[[str], list[str]]) -> None:
    found = problems(
        SITE
        + meter(id="a", topic="tele/p/SENSOR", format="tasmota", channel=1, rated_kw="1")
        + meter(id="b", topic="tele/p/SENSOR", format="tasmota", channel=2, rated_kw="1")
        + meter(id="c", topic="tele/p/SENSOR", format="tasmota", channel=2, rated_kw="1")
        + meter(id="d", topic="shellies/x", format="shelly", rated_kw="1")
        + meter(id="e", topic="shellies/x", format="shelly", component="switch:0", rated_kw="1")
    )
    assert found == [
        "meters[2].topic: 'tele/p/SENSOR', channel 2 is already read by meter 'b' (meters[1])",
        "meters[4].topic: 'shellies/x', component switch:0 is already read by meter 'd' "
        "(meters[3])",
    ]


def test_a_meter_outside_every_subscription_is_an_error(
    problems: Callable[[str], list[str]],
) -> None:
    found = problems(
        SITE
        + '[mqtt]\ntopics = ["mining/site-1/#", "shellies/+/status/#"]\n'
        + meter(id="a", topic="mining/site-1/a", rated_kw="1")
        + meter(id="b", topic="mining/site-2/b", rated_kw="1")
        + meter(id="c", topic="shellies/c", format="shelly", rated_kw="1")
        + meter(id="d", topic="mbmd/SDM", format="mbmd", rated_kw="1")
    )
    assert found == [
        "meters[1].topic: no mqtt.topics filter matches 'mining/site-2/b'",
        "meters[3].topic: no mqtt.topics filter matches 'mbmd/SDM/Import'",
    ]
