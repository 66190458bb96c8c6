from collections.abc import Callable
from pathlib import Path

import pytest

from levy.config import SiteConfig
from levy.config.inventory import read_inventory
from levy.core.model import Supply

SITE = '[site]\nid = "site-1"\nsupply = "off_grid"\ninventory = "meters.csv"\n'
HEADER = "id,topic,format,rated_kw,supply,commissioned_at,channel,component,measure\n"


@pytest.fixture
def inventory(tmp_path: Path) -> Callable[[str], Path]:
    def write_csv(text: str) -> Path:
        path = tmp_path / "meters.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write_csv


def test_inventory_meters_follow_the_toml_ones(
    load: Callable[[str], SiteConfig], inventory: Callable[[str], Path]
) -> None:
    inventory(
        "\ufeff# exported from the rig spreadsheet\n"
        + HEADER
        + "rig-0002, mining/site-1/rig-0002 ,,3.25,,,,,\n"
        + "\n"
        + "# rack B\n"
        + "rig-0003,tele/p/SENSOR,tasmota,3.6,grid,2026-10-05,2,,power\n"
    )
    config = load(SITE + '[[meters]]\nid = "rig-0001"\ntopic = "x/1"\nrated_kw = 1\n')
    assert [meter.id for meter in config.meters] == ["rig-0001", "rig-0002", "rig-0003"]
    second, third = config.meters[1:]
    assert second.topic == "mining/site-1/rig-0002"
    assert (second.format, second.supply, second.channel) == ("native", Supply.OFF_GRID, None)
    assert (third.supply, third.channel, third.measure) == (Supply.GRID, 2, "power")
    assert third.commissioned_at is not None and third.commissioned_at.hour == 0


def test_an_inventory_row_may_be_decommissioned(
    load: Callable[[str], SiteConfig],
    problems: Callable[[str], list[str]],
    inventory: Callable[[str], Path],
) -> None:
    header = "id,topic,rated_kw,commissioned_at,decommissioned_at\n"
    inventory(header + "rig-0001,mining/site-1/rig-0001,3,2026-10-05,2027-01-10T00:00:00+05:00\n")
    [meter] = load(SITE).meters
    assert meter.decommissioned_at is not None
    assert meter.decommissioned_at.isoformat() == "2027-01-10T00:00:00+05:00"
    inventory(header + "rig-0001,mining/site-1/rig-0001,3,2026-10-05,2026-10-04\n")
    assert problems(SITE) == [
        "meters.csv line 2, decommissioned_at: should be later than commissioned_at "
        "(2026-10-05T00:00:00+05:00)"
    ]


def test_an_inventory_alone_is_enough(
    load: Callable[[str], SiteConfig], inventory: Callable[[str], Path]
) -> None:
    inventory("id,topic,rated_kw\nrig-0001,mining/site-1/rig-0001,3\n")
    assert [meter.id for meter in load(SITE).meters] == ["rig-0001"]


def test_row_problems_name_the_file_and_line(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory(
        "# comment lines count\n"
        + HEADER
        + "rig-0001,mining/site-1/rig-0001,,3.6,,,,,\n"
        + "\n"
        + "rig-0002,mining/site-1/rig-0002,,-3,,,,,\n"
        + "rig-0003,mining/site-1/rig-0003,,3,,,x,,\n"
        + "rig 4,mining/site-1/rig-0004,,3,,,,,,,\n"
        + "rig-0005,mining/site-1/rig-0005,shelly,3,,,,em:0,energy\n"
    )
    assert problems(SITE) == [
        "meters.csv line 7: 11 cells, but the header has 9 columns",
        "meters.csv line 5, rated_kw: Input should be greater than 0",
        "meters.csv line 6, channel: Input should be a valid integer, unable to parse string as an "
        "integer",
        'meters.csv line 8, measure: a Shelly em:N reports power only: use "power", or component '
        "emdata:N",
    ]


def test_checks_across_rows_name_both_lines(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory(
        "id,topic,rated_kw\n"
        "rig-0001,mining/site-1/rig-0001,3\n"
        "rig-0002,mining/site-1/rig-0001,3\n"
        "rig-0001,mining/site-1/rig-0003,3\n"
    )
    assert problems(SITE) == [
        "meters.csv line 3, topic: 'mining/site-1/rig-0001' is already read by meter 'rig-0001' "
        "(meters.csv line 2)",
        "meters.csv line 4, id: 'rig-0001' is already used by meters.csv line 2",
    ]


def test_ids_are_unique_across_toml_and_inventory(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory("id,topic,rated_kw\nrig-0001,mining/site-1/b,3\n")
    assert problems(
        SITE + '[[meters]]\nid = "rig-0001"\ntopic = "mining/site-1/a"\nrated_kw = 1\n'
    ) == ["meters.csv line 2, id: 'rig-0001' is already used by meters[0]"]


def test_header_problems_are_reported_once(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory("id,topic,watts,id\nrig-0001,t,3,x\nrig-0002,t,3,y\n")
    assert problems(SITE) == [
        "meters.csv line 1: unknown column 'watts' (columns: id, format, topic, rated_kw, supply, "
        "commissioned_at, decommissioned_at, channel, component, measure, role)",
        "meters.csv line 1: column 'id' appears twice",
        "meters.csv line 1: missing column 'rated_kw'",
        "meters: no meters: add [[meters]] tables or a site.inventory CSV",
    ]


def test_an_empty_inventory_has_no_header(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory("# nothing yet\n")
    assert problems(SITE)[0] == "meters.csv: no header row"


def test_a_missing_inventory_names_the_file(
    problems: Callable[[str], list[str]], tmp_path: Path
) -> None:
    assert problems(SITE)[0] == (
        f"site.inventory: cannot read {tmp_path / 'meters.csv'}: No such file or directory"
    )


def test_inventory_problems_are_reported_with_site_problems(
    problems: Callable[[str], list[str]], inventory: Callable[[str], Path]
) -> None:
    inventory("id,topic,rated_kw\nrig-0001,mining/site-1/rig-0001,0\n")
    assert problems(SITE.replace('"site-1"', '""')) == [
        "site.id: should not be empty or start or end with a space",
        "meters.csv line 2, rated_kw: Input should be greater than 0",
    ]


def test_cells_rows_hold_alike_are_kept_once(inventory: Callable[[str], Path]) -> None:
    """A large site's 100,000 rows hold one "native" and one "3.6", not one each; ids and
    topics, each row's own, are not looked up."""
    path = inventory("id,topic,format,rated_kw\nrig-1,a/1,native,3.6\nrig-2,a/2,native,3.6\n")
    first, second = read_inventory(path, ["id", "topic", "format", "rated_kw"], [], ["id"]).rows
    assert first.cells["format"] is second.cells["format"]
    assert first.cells["rated_kw"] is second.cells["rated_kw"]
    assert (first.line, second.line) == (2, 3)
    assert first.cells == {"id": "rig-1", "topic": "a/1", "format": "native", "rated_kw": "3.6"}
