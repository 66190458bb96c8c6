"""A validated configuration keeps each meter as a small `Meter` record, not the pydantic model,
with exactly the values the model validated."""

from collections.abc import Callable
from pathlib import Path

from levy.config import Meter, MeterConfig, SiteConfig
from levy.config.records import meter_record

SITE = '[site]\nid = "site-1"\ninventory = "meters.csv"\n'


def test_meters_are_records_of_the_validated_models(
    load: Callable[[str], SiteConfig], tmp_path: Path
) -> None:
    (tmp_path / "meters.csv").write_text(
        "id,topic,format,rated_kw,component\n"
        "rig-1,a/1,native,3.60,\n"
        "rig-2,a/2,native,3.6,\n"
        "rig-3,a/3,native,3.60,\n"
        "rig-4,shellies/rig-4,shelly,2,em:0\n"
    )
    config = load(SITE)
    assert all(type(meter) is Meter for meter in config.meters)
    first, _, third, shelly = config.meters
    assert [str(meter.rated_kw) for meter in config.meters] == ["3.60", "3.6", "3.60", "2"]
    assert first.rated_kw is third.rated_kw  # equal ratings kept once
    assert (shelly.component, shelly.measure) == ("em:0", "power")
    entry = {"id": "rig-4", "topic": "shellies/rig-4", "format": "shelly", "rated_kw": "2"}
    model = MeterConfig.model_validate({**entry, "component": "em:0"})
    assert meter_record(model) == shelly
    assert Meter._fields == tuple(MeterConfig.model_fields)
