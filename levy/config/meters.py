"""One metered load: a rig, a rack or a feeder, as read from one MQTT device."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationInfo, field_validator, model_validator

from levy.config.base import Section
from levy.config.context import context_of, with_default
from levy.config.topics import topic_problem
from levy.config.values import LocalTime, PositiveInt, RatedKw, name_problem, utc
from levy.core.model import Measure, Supply


class MeterFormat(StrEnum):
    """Payload formats of DESIGN.md section 4."""

    NATIVE = "native"
    TASMOTA = "tasmota"
    SHELLY = "shelly"
    ZIGBEE2MQTT = "zigbee2mqtt"
    MBMD = "mbmd"


_SHELLY_COMPONENT = re.compile(r"(switch|em|emdata):\d+")
_PREFIX_FORMATS = (MeterFormat.SHELLY, MeterFormat.MBMD)
"""Formats whose `topic` is a device prefix rather than the exact topic readings arrive on."""


class MeterConfig(Section):
    """A `[[meters]]` entry or an inventory row.

    `supply` defaults to the site's; `component` to `switch:0` for Shelly. `measure` defaults to
    None: the meter's first valid reading decides (DESIGN.md rule 5). Formats whose devices always
    report a register, and whose first message must not decide, have a default instead: energy
    for mbmd (Import and Power arrive on separate topics) and for a Shelly `switch:N` or
    `emdata:N`, power for a Shelly `em:N`, which reports power only. Set, it pins the measure.
    """

    id: str
    format: MeterFormat = MeterFormat.NATIVE
    topic: str
    rated_kw: RatedKw
    supply: Supply = Supply.GRID
    commissioned_at: LocalTime | None = None
    decommissioned_at: LocalTime | None = None
    """Accounted up to here, then out of coverage; the entry stays, so the ledger's rows keep a
    configured meter."""
    channel: PositiveInt | None = None
    """1-based index into a multi-channel Tasmota's arrays."""
    component: str | None = None
    measure: Measure | None = None
    """None: decided by the first valid reading."""

    @model_validator(mode="before")
    @classmethod
    def _site_and_format_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        data = with_default(data, "supply", context_of(info).supply)
        if not isinstance(data, dict):
            return data
        if data.get("format") == MeterFormat.SHELLY:
            data = with_default(data, "component", "switch:0")
            power_only = str(data["component"]).startswith("em:")
            data = with_default(data, "measure", Measure.POWER if power_only else Measure.ENERGY)
        elif data.get("format") == MeterFormat.MBMD:
            data = with_default(data, "measure", Measure.ENERGY)
        return data

    @field_validator("id")
    @classmethod
    def _id_as_written(cls, value: str) -> str:
        if problem := name_problem(value):
            raise ValueError(problem)
        return value

    # The checks below see the fields declared before theirs in `info.data` (absent when invalid,
    # in which case that field's own error is reported instead).

    @field_validator("topic")
    @classmethod
    def _topic_name(cls, value: str, info: ValidationInfo) -> str:
        if problem := topic_problem(value):
            raise ValueError(problem)
        if info.data.get("format") in _PREFIX_FORMATS and value.endswith("/"):
            raise ValueError(f"a {info.data['format']} topic is a device prefix: no trailing '/'")
        return value

    @field_validator("decommissioned_at")
    @classmethod
    def _after_commissioning(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        commissioned = info.data.get("commissioned_at")
        if value is not None and commissioned is not None and utc(value) <= utc(commissioned):
            raise ValueError(f"should be later than commissioned_at ({commissioned.isoformat()})")
        return value

    @field_validator("channel")
    @classmethod
    def _tasmota_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("format", "tasmota") != MeterFormat.TASMOTA:
            raise ValueError("only tasmota meters have channels")
        return value

    @field_validator("component")
    @classmethod
    def _shelly_component(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("format", "shelly") != MeterFormat.SHELLY:
            raise ValueError("only shelly meters have components")
        if not _SHELLY_COMPONENT.fullmatch(value):
            raise ValueError(f"{value!r} should be switch:N, em:N or emdata:N")
        return value

    @field_validator("measure")
    @classmethod
    def _what_component_reports(cls, value: Measure | None, info: ValidationInfo) -> Measure | None:
        kind = (info.data.get("component") or "").partition(":")[0]
        if kind == "em" and value is not Measure.POWER:
            raise ValueError('a Shelly em:N reports power only: use "power", or component emdata:N')
        if kind == "emdata" and value is not Measure.ENERGY:
            raise ValueError("a Shelly emdata:N reports energy only")
        return value
