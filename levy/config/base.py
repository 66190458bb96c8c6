"""The base of every configuration table."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Section(BaseModel):
    """Unknown keys are errors: a misspelt key silently left at its default would bill wrongly.

    No setting is a boolean, and pydantic would otherwise read `true` as 1 (a kW, a port).
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("true/false is not a valid value here")
        return value
