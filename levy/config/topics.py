"""MQTT topic names and filters, checked at load time because a wrong one never errors at run
time: the meter just stays silent and gets deemed at full rated power."""

import re
from collections.abc import Callable, Sequence

from collector.decoders.common import MAX_TOPIC_BYTES


def topic_problem(topic: str) -> str | None:
    if not topic:
        return "should not be empty"
    if "+" in topic or "#" in topic:
        return "is a topic name, not a filter: no '+' or '#'"
    if "\0" in topic:
        return "should not contain a NUL character"
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        return f"is longer than {MAX_TOPIC_BYTES} bytes: the daemon treats such topics as garbage"
    return None


def filter_problem(topic_filter: str) -> str | None:
    if not topic_filter:
        return "should not be empty"
    if "\0" in topic_filter:
        return "should not contain a NUL character"
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return f"{topic_filter!r}: '#' may only be the whole last level"
        if "+" in level and level != "+":
            return f"{topic_filter!r}: '+' must be a whole level"
    return None


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 section 4.7 matching, including that wildcards skip `$`-topics."""
    return subscription([topic_filter])(topic)


def subscription(filters: Sequence[str]) -> Callable[[str], bool]:
    """Whether a topic matches any of `filters`: one regular expression for them all, since a
    large site checks 100,000 meters' topics against them."""
    pattern = re.compile("|".join(map(_pattern, filters)) or "(?!)", re.DOTALL)
    return lambda topic: pattern.fullmatch(topic) is not None


def _pattern(topic_filter: str) -> str:
    """`+` is one level, `#` the parent level and any below it (a `#` ends the filter); a
    wildcard first level never matches a `$`-topic."""
    levels = topic_filter.split("/")
    pattern = "(?!\\$)" if levels[0] in ("+", "#") else ""
    for index, level in enumerate(levels):
        if level == "#":
            return f"(?:{pattern}{'.*' if index == 0 else '(?:/.*)?'})"
        pattern += ("/" if index else "") + ("[^/]*" if level == "+" else re.escape(level))
    return f"(?:{pattern})"
