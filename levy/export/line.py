"""InfluxDB line protocol, written here instead of by influxdb-client's `Point`: the exporter sends
every row that grew again, and `Point` spends about 15 us on each. A `Line` writes the text
`Point.to_line_protocol` writes, byte for byte (tags and fields sorted by key, the same escapes,
a float as its shortest repr without a trailing `.0`, a non-finite float or an empty tag left
out, an int with its `i`), at a third of the cost; `tests/export/test_line.py` holds it to that.
The client still sends the lines (gzip, retries, timeouts)."""

import functools
import math

FieldValue = float | int | bool | str
CACHED = 1 << 18
"""Escaped names kept: keys and tag values repeat (meters, supplies, periods), and escaping
is most of a line's cost."""

_CONTROL = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", **_CONTROL})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", **_CONTROL})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\"})


class Line:
    """One point: a measurement, its tags and fields, and its time in milliseconds."""

    __slots__ = ("fields", "measurement", "tags", "time_ms")

    def __init__(self, measurement: str, time_ms: int) -> None:
        self.measurement = measurement
        self.time_ms = time_ms
        self.tags: dict[str, str] = {}
        self.fields: dict[str, FieldValue] = {}

    def tag(self, key: str, value: str) -> "Line":
        self.tags[key] = value
        return self

    def field(self, key: str, value: FieldValue) -> "Line":
        self.fields[key] = value
        return self

    def to_line_protocol(self) -> str:
        fields = ",".join(
            f"{_key(key)}={text}"
            for key, value in sorted(self.fields.items())
            if (text := _field(value)) is not None
        )
        if not fields:
            return ""
        tags = "".join(
            f",{_key(key)}={_tag(value)}"
            for key, value in sorted(self.tags.items())
            if key and value
        )
        return f"{_measurement(self.measurement)}{tags} {fields} {self.time_ms}"


@functools.lru_cache(maxsize=CACHED)
def _measurement(name: str) -> str:
    return name.translate(_MEASUREMENT)


@functools.lru_cache(maxsize=CACHED)
def _key(key: str) -> str:
    return key.translate(_KEY)


@functools.lru_cache(maxsize=CACHED)
def _tag(value: str) -> str:
    escaped = value.translate(_KEY)
    return escaped + " " if escaped.endswith("\\") else escaped


def _field(value: FieldValue) -> str | None:
    if isinstance(value, bool):  # before int: a bool is an int
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, int):
        return f"{value}i"
    return f'"{value.translate(_STRING)}"'
