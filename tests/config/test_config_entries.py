"""A plain meter entry (an inventory row of text) is made into a `Meter` without pydantic: exactly
the record the model makes of it, and never one the model would refuse; anything else is left to
the model, so every error stays the model's."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from levy.config import MeterConfig, SiteConfig
from levy.config.context import LoadContext
from levy.config.entries import PlainMeters
from levy.config.records import meter_record
from levy.core.model import Supply

CONTEXT = LoadContext(base_dir=Path("."), site_id="site-1", supply=Supply.OFF_GRID)

texts = st.one_of(
    st.sampled_from(["rig-1", "a/1", " rig", "rig ", "", "a/+", "a/#", "a\0", "x" * 201]),
    st.text(st.sampled_from("ab/ #+\0\u200b\n-é"), max_size=6),
)
ratings = st.one_of(
    st.sampled_from(["3.6", "3.60", "03.600", "0", "0.000", "0.0001", "1e3", "-1", "+1", "1_0"]),
    st.sampled_from([" 2", "2.", ".5", "٣", "NaN", "inf", "3.6000", "1.001"]),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{0,5})?", fullmatch=True),
    st.decimals(allow_nan=False, places=2).map(str),
    st.just(Decimal("3.6")),
    st.just(True),
)
entries = st.fixed_dictionaries(
    {"id": st.one_of(texts, st.just(1)), "topic": texts, "rated_kw": ratings},
    optional={
        "format": st.sampled_from(["native", "tasmota", "shelly", "mbmd", "zigbee2mqtt", "x"]),
        "supply": st.sampled_from(["grid", "off_grid", "GRID", "", "other"]),
        "measure": st.sampled_from(["power", "energy"]),
        "component": st.sampled_from(["switch:0", "em:1"]),
    },
)


def model_record(entry: dict[str, Any]) -> Any:
    try:
        model = MeterConfig.model_validate(entry, context=CONTEXT)
    except ValidationError:
        return None
    return meter_record(model)


@settings(max_examples=500, deadline=None)
@given(entries)
def test_a_plain_entry_is_what_the_model_makes_of_it(entry: dict[str, Any]) -> None:
    made = PlainMeters(CONTEXT.supply, {}).meter(entry)
    if made is not None:
        expected = model_record(entry)
        assert expected is not None, "made a meter of an entry the model refuses"
        assert made == expected
        assert made.rated_kw.as_tuple() == expected.rated_kw.as_tuple()  # 3.60 stays 3.60
        assert type(made.supply) is Supply


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "rig-1", "topic": "a/1", "rated_kw": "3.6"},
        {"id": "rig-1", "topic": "a/1", "rated_kw": "3.60", "format": "native", "supply": "grid"},
        {"id": "rig-1", "topic": "tele/rig-1/SENSOR", "rated_kw": "2", "format": "tasmota"},
    ],
)
def test_the_usual_rows_are_plain(entry: dict[str, Any]) -> None:
    assert PlainMeters(CONTEXT.supply, {}).meter(entry) == model_record(entry)


def test_equal_ratings_are_kept_once() -> None:
    plain = PlainMeters(Supply.GRID, {})
    first, second = (
        plain.meter({"id": f"r{n}", "topic": f"a/{n}", "rated_kw": "3.6"}) for n in "12"
    )
    assert first is not None and second is not None
    assert first.rated_kw is second.rated_kw


def test_the_same_errors_as_before(problems: Callable[[str], list[str]], tmp_path: Path) -> None:
    """Plain rows around bad ones: the problems are the model's, each at its row."""
    (tmp_path / "meters.csv").write_text(
        "id,topic,rated_kw,supply\n"
        "rig-1,a/1,3.6,grid\n"
        "rig-2,a/2,0,grid\n"
        "rig-3,a/3,3.6,\n"
        "rig-4,a/+,3.6,grid\n"
        "rig-5,a/5,3.6,sun\n"
    )
    assert problems('[site]\nid = "site-1"\ninventory = "meters.csv"\n') == [
        "meters.csv line 3, rated_kw: Input should be greater than 0",
        "meters.csv line 5, topic: is a topic name, not a filter: no '+' or '#'",
        "meters.csv line 6, supply: Input should be 'grid' or 'off_grid'",
    ]


def test_a_site_of_plain_rows_loads_as_the_model_would(
    load: Callable[[str], SiteConfig], tmp_path: Path
) -> None:
    (tmp_path / "meters.csv").write_text(
        "id,topic,format,rated_kw,supply\nrig-1,a/1,native,3.60,\nrig-2,a/2,,2,grid\n"
    )
    config = load('[site]\nid = "site-1"\nsupply = "off_grid"\ninventory = "meters.csv"\n')
    entries = [
        {"id": "rig-1", "topic": "a/1", "format": "native", "rated_kw": "3.60"},
        {"id": "rig-2", "topic": "a/2", "rated_kw": "2", "supply": "grid"},
    ]
    assert config.meters == [model_record(entry) for entry in entries]
