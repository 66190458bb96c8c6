"""One metered load: a rig, a rack or a feeder, as read from one MQTT device."""

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationInfo, field_validator, model_validator

from collector import formats
from levy.config.base import Section
from levy.config.context import context_of, with_default
from levy.config.topics import topic_problem
from levy.config.values import LocalTime, PositiveInt, RatedKw, name_problem, utc
from levy.core.model import Measure, Role, Supply


class MeterFormat(StrEnum):
    """The payload formats of DESIGN.md section 4, which ship with the collector. A meter's
    `format` may name any format registered in `collector.formats`, these and others."""

    NATIVE = "native"
    TASMOTA = "tasmota"
    SHELLY = "shelly"
    ZIGBEE2MQTT = "zigbee2mqtt"
    MBMD = "mbmd"


class MeterConfig(Section):
    """A `[[meters]]` entry or an inventory row.

    `format` names a registered device format (`collector.formats`), which gives the defaults
    and checks of the keys it reads. `supply` defaults to the site's; `component` to `switch:0`
    for Shelly. `measure` defaults to None: the meter's first valid reading decides (DESIGN.md
    rule 5). Formats whose devices always report a register, and whose first message must not
    decide, have a default instead: energy for mbmd (Import and Power arrive on separate topics)
    and for a Shelly `switch:N` or `emdata:N`, power for a Shelly `em:N`, which reports power
    only. Set, it pins the measure.
    """

    id: str
    format: str = MeterFormat.NATIVE.value
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
    role: Role = Role.BILLED
    """`site_main`: the utility's revenue meter or a feeder of the mining load, measured like any
    other and reconciled against the billed meters, never billed itself."""

    @model_validator(mode="before")
    @classmethod
    def _site_and_format_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        data = with_default(data, "supply", context_of(info).supply)
        if not isinstance(data, dict):
            return data
        fmt = formats.find(data.get("format", MeterFormat.NATIVE.value))
        if fmt is not None:
            for key, value in fmt.defaults(data).items():
                data = with_default(data, key, value)
        return data

    @field_validator("format", mode="before")
    @classmethod
    def _registered(cls, value: object) -> object:
        """Any registered name (as an enum would: whatever else is written, the names)."""
        if formats.find(value) is None:
            *known, last = (repr(name) for name in formats.names())
            raise ValueError(f"Input should be {', '.join(known)} or {last}")
        return value

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
        return _format_check("topic", value, info)

    @field_validator("decommissioned_at")
    @classmethod
    def _after_commissioning(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        commissioned = info.data.get("commissioned_at")
        if value is not None and commissioned is not None and utc(value) <= utc(commissioned):
            raise ValueError(f"should be later than commissioned_at ({commissioned.isoformat()})")
        return value

    @field_validator("channel", "component")
    @classmethod
    def _format_reads(cls, value: object, info: ValidationInfo) -> object:
        """A key only the formats that read it take (no error when `format` itself is wrong)."""
        if value is None:
            return value
        fmt = formats.find(info.data.get("format"))
        if fmt is not None and info.field_name not in fmt.fields:
            takers = [
                name for name in formats.names() if info.field_name in formats.get(name).fields
            ]
            raise ValueError(f"only {' or '.join(takers)} meters have {info.field_name}s")
        return _format_check(str(info.field_name), value, info)

    @field_validator("measure")
    @classmethod
    def _format_measure(cls, value: Measure | None, info: ValidationInfo) -> Measure | None:
        return _format_check("measure", value, info)


Value = TypeVar("Value")


def _format_check(key: str, value: Value, info: ValidationInfo) -> Value:
    """The meter's format's problem with `key`, given the keys validated before it."""
    fmt = formats.find(info.data.get("format"))
    if fmt is not None and (problem := fmt.check(key, value, info.data)):
        raise ValueError(problem)
    return value
