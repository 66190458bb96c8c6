"""The compiled JSON reader and the standard library's read every payload the same way: every
number an exact Decimal, whatever the two disagree on left to the standard library's reading."""

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.decoders.common import _JSON, DecodeError, load_json

NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.sampled_from(["NaN", "Infinity", "-0", "1E+1000000000000000000", "1e5", "0.10"]),
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.text(max_size=8), NUMBERS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def text_of(value: object) -> str:
    """JSON with numbers written as given (a string of digits stays a bare number)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{text_of(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(text_of, value)) + "]"
    if isinstance(value, str) and value and value[0] in "-0123456789NI":
        return value
    return json.dumps(value)


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_both_readers_agree(value: object) -> None:
    text = text_of(value)
    try:
        expected = _JSON.decode(text)
    except ValueError:
        expected = DecodeError
    try:
        got = load_json(text.encode(), 1 << 20)
    except DecodeError:
        got = DecodeError
    assert got == expected or _same_nan(got, expected), text


def _same_nan(got: object, expected: object) -> bool:
    """NaN is never equal to itself: compare the readings' text instead."""
    return repr(got) == repr(expected)


def test_integers_are_decimals_too() -> None:
    assert load_json(b'{"a": 12, "b": [1, 2.5], "c": true}', 1000) == {
        "a": Decimal(12),
        "b": [Decimal(1), Decimal("2.5")],
        "c": True,
    }
    assert type(load_json(b"[12]", 100)[0]) is Decimal  # type: ignore[index]
