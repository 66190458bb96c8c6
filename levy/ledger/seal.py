"""Seals: the SHA-256 of an item of the record in a canonical encoding, so that `verify` can name
the exact row that was edited by hand.

An item is one row of `intervals`, `meters`, `closed_periods` or `blind_spans`, or the site's
binding (site id, zone, accounting start and rate steps, kept in `meta` and `rate_steps`). Its
canonical encoding is UTF-8 JSON of one object: the field `"t"` naming the item's table
(`"binding"` for the binding), then each of the item's named fields below, keys sorted, no
whitespace, non-ASCII characters as they are (not escaped). Values are the stored ones: integers
as JSON integers, text as JSON strings (decimals are stored as text, so a rate is `"2"`), SQL
NULL as `null`; an interval names its meter by name. A value of another type, which only a hand
edit can store, is encoded too (a real as a JSON number, a blob as the string `x'<hex>'`), so an
edit of a column's type is caught as well. Adding a field to an item is one line in `FIELDS`
(and changes the seals of every item of that table: a migration reseals them).
"""

import hashlib
import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

INTERVAL_FIELDS = (
    "meter",
    "start_ms",
    "end_ms",
    "kind",
    "energy_mj",
    "supply",
    "rated_w",
    "rate",
    "role",
)
"""An interval row: its key (meter name, start) and every billed attribute."""
METER_FIELDS = (
    "name",
    "supply",
    "rated_w",
    "measure",
    "start_ms",
    "end_ms",
    "accrued_ms",
    "baseline_ms",
    "baseline_value",
    "faults",
    "open_row_ms",
)
"""A meter's row: its configured attributes, its span and the engine state it resumes from."""
CLOSE_FIELDS = (
    "period",
    "start_ms",
    "end_ms",
    "closed_at_ms",
    "chain_block",
    "chain_hash",
    "period_digest",
    "signature",
    "public_key",
)
"""A close record, with the chain head and period digest it stores and its signature."""
BLIND_FIELDS = ("start_ms", "end_ms")
BINDING_FIELDS = ("site_id", "timezone", "accounting_start_ms", "rates")
"""`rates`: the rate steps as [from_ms, grid, off_grid] lists in time order."""

FIELDS: dict[str, tuple[str, ...]] = {
    "intervals": INTERVAL_FIELDS,
    "meters": METER_FIELDS,
    "closed_periods": CLOSE_FIELDS,
    "blind_spans": BLIND_FIELDS,
    "binding": BINDING_FIELDS,
}
"""Each kind of item by its `"t"`: the fields its seal covers, in the order they are passed."""


def _stored(value: object) -> object:
    if isinstance(value, bytes):
        return f"x'{value.hex()}'"
    raise TypeError(f"cannot seal {value!r}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_stored)


def _layout(t: str) -> list[tuple[str, int]]:
    """Per key in sorted order: the text before its value (`{"key":` or `,"key":`) and the
    position of its value in (t, *values)."""
    keys = sorted((key, position) for position, key in enumerate(("t", *FIELDS[t])))
    return [
        (("{" if index == 0 else ",") + encode_basestring(key) + ":", position)
        for index, (key, position) in enumerate(keys)
    ]


_LAYOUT = {t: _layout(t) for t in FIELDS}


def _value(value: Any) -> str:
    """A value as `json.dumps` with this module's settings writes it, the common ones without
    its overhead (the commit path seals every row it writes)."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    return _ENCODER.encode(value)


def canonical(t: str, values: Sequence[Any]) -> bytes:
    """The canonical encoding of the item of kind `t` whose fields (in `FIELDS[t]` order) hold
    `values`: byte for byte `canonical_object` of the object they make."""
    ordered = (t, *values)
    layout = _LAYOUT[t]
    if len(ordered) != len(layout):
        raise ValueError(f"a {t} item has {len(FIELDS[t])} fields, not {len(values)}")
    return ("".join([head + _value(ordered[at]) for head, at in layout]) + "}").encode()


def seal(t: str, values: Sequence[Any]) -> bytes:
    return hashlib.sha256(canonical(t, values)).digest()


def canonical_object(document: dict[str, Any]) -> bytes:
    """The same encoding for a record that is not an item (a chain block, a signed close)."""
    return json.dumps(
        document, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=_stored
    ).encode()
