import pytest

from levy.config.topics import filter_problem, matches, topic_problem


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("#", "mining/site-1/rig", True),
        ("mining/#", "mining", True),
        ("mining/#", "mining/site-1/rig", True),
        ("mining/+/rig", "mining/site-1/rig", True),
        ("mining/+", "mining/site-1/rig", False),
        ("mining/site-1/rig", "mining/site-1/rig", True),
        ("mining/site-1", "mining/site-1/rig", False),
        ("+/+", "/rig", True),
        ("#", "$SYS/broker/uptime", False),
        ("+/broker/uptime", "$SYS/broker/uptime", False),
        ("$SYS/#", "$SYS/broker/uptime", True),
    ],
)
def test_filters_match_as_in_mqtt(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


@pytest.mark.parametrize("topic_filter", ["#", "a/#", "+", "a/+/b", "/", "a//b"])
def test_valid_filters(topic_filter: str) -> None:
    assert filter_problem(topic_filter) is None


@pytest.mark.parametrize("topic_filter", ["", "a#", "a/#/b", "a/b+", "a/\0"])
def test_invalid_filters(topic_filter: str) -> None:
    assert filter_problem(topic_filter) is not None


@pytest.mark.parametrize("topic", ["", "a/+", "a/#", "a\0"])
def test_topic_names_have_no_wildcards(topic: str) -> None:
    assert topic_problem(topic) is not None


def test_a_topic_longer_than_the_daemon_reads_is_refused():
    assert "longer than 1024 bytes" in (topic_problem("t/" + "x" * 1023) or "")
    assert topic_problem("t/" + "x" * 1000) is None
