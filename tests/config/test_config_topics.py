import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levy.config.topics import filter_problem, matches, subscription, topic_problem


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


def reference_matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 section 4.7, level by level: what `subscription`'s one expression must agree
    with."""
    wanted = topic_filter.split("/")
    levels = topic.split("/")
    if levels[0].startswith("$") and wanted[0] in ("+", "#"):
        return False
    for index, level in enumerate(wanted):
        if level == "#":
            return True
        if index >= len(levels) or level not in ("+", levels[index]):
            return False
    return len(wanted) == len(levels)


levels = st.sampled_from(["a", "b", "", "$SYS", "$", ".*", "a.b", "\n", "+", "#"])
filters = (
    st.lists(levels, min_size=1, max_size=4)
    .map("/".join)
    .filter(lambda topic_filter: filter_problem(topic_filter) is None)
)
topics = st.lists(levels.filter(lambda level: level not in "+#"), min_size=1, max_size=5).map(
    "/".join
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(filters, max_size=3), topics)
def test_one_expression_matches_as_each_filter_does(wanted: list[str], topic: str) -> None:
    expected = any(reference_matches(each, topic) for each in wanted)
    assert subscription(wanted)(topic) is expected
