"""The exporter's own line protocol writes what influxdb-client's Point writes, byte for byte,
whatever the ids, tags and fields hold."""

import math

from hypothesis import given
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from levy.export.line import Line

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
"""Any text that can be encoded, with commas, spaces, `=`, quotes, backslashes, controls and
Cyrillic among what hypothesis tries."""
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    texts,
)


def both(measurement: str, tags: dict[str, str], fields: dict, time_ms: int) -> tuple[str, str]:
    point = Point(measurement).time(time_ms, WritePrecision.MS)
    line = Line(measurement, time_ms)
    for key, value in tags.items():
        point.tag(key, value)
        line.tag(key, value)
    for key, value in fields.items():
        point.field(key, value)
        line.field(key, value)
    return line.to_line_protocol(), point.to_line_protocol()


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
        lambda name: not name.startswith("#")
    ),
    st.dictionaries(texts, texts, max_size=4),
    st.dictionaries(texts, values, max_size=4),
    st.integers(0, 2**42),
)
def test_a_line_is_what_point_writes(measurement, tags, fields, time_ms):
    ours, theirs = both(measurement, tags, fields, time_ms)
    assert ours == theirs


def test_the_exporter_cases():
    ours, theirs = both(
        "levy_interval",
        {"site": 'Экибастуз "A", 1=2', "meter": "rig\\", "reason": ""},
        {"kwh": 1.0, "fee_tenge": 2.5e-07, "gone": math.nan, "closed": True, "n": 3, "due": 'x"y'},
        1_790_794_800_000,
    )
    assert ours == theirs
    assert "reason" not in ours and "gone" not in ours


def test_a_point_without_fields_is_no_line():
    assert Line("levy_meter", 1).tag("site", "s").to_line_protocol() == ""
