"""The ground truth of a run, for tests and benchmarks to compare the levy's figures with.

Per meter: what the rig really consumed (exact, kWh, as a string like every decimal in the
project's JSON) from its first scheduled reading to its last, published or not, and how many
readings met each fate. Resets and spikes are not consumption: they move the register only.
"""

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from levy.core.units import ms_to_datetime

from .fleet import Event, Fleet, Rig


def truth_document(fleet: Fleet, sent: Counter[Event]) -> dict[str, Any]:
    rigs = fleet.rigs
    return {
        "seed": fleet.seed,
        "interval_s": _plain(Decimal(fleet.interval_ms) / 1000),
        "messages": _counts(sent),
        "meters": [_meter(rig) for rig in rigs],
        "totals": {
            "consumed_kwh": _plain(sum((rig.consumed_kwh for rig in rigs), Decimal(0))),
            "events": _counts(sum((rig.events for rig in rigs), Counter())),
        },
    }


def write_truth(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _meter(rig: Rig) -> dict[str, Any]:
    meter = rig.meter
    return {
        "meter": meter.id,
        "format": meter.format,
        "topic": meter.topic,
        "measure": str(meter.measure),
        "rated_kw": _plain(meter.rated_kw),
        "first_ts": _iso(rig.first_ms),
        "last_ts": _iso(rig.last_ms),
        "consumed_kwh": _plain(rig.consumed_kwh),
        "events": _counts(rig.events),
    }


def _counts(counter: Counter[Event]) -> dict[str, int]:
    return {str(event): counter[event] for event in Event}


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _iso(ms: int | None) -> str | None:
    return None if ms is None else ms_to_datetime(ms).isoformat(timespec="milliseconds")
