"""Configuration problems, gathered so an operator can fix a file in one pass instead of one
error per run."""

from collections.abc import Callable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Location = Sequence[str | int]
"""A key path as pydantic reports it: table keys and array indexes."""


class ConfigError(Exception):
    """Every problem found in a site's configuration, each prefixed by where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def dotted(location: Location) -> str:
    """`("meters", 3, "rated_kw")` -> `meters[3].rated_kw`: the key path as written in TOML."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def problems_from(error: ValidationError, where: Callable[[Location], str]) -> list[str]:
    """Plain one-line messages: no pydantic URLs, no input values (they may be secrets)."""
    return [
        f"{where(detail['loc'])}: {_message(detail)}"
        for detail in error.errors(include_url=False, include_input=False)
    ]


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "model_type": "should be a table",
    "model_attributes_type": "should be a table",
    "dict_type": "should be a table",
    "list_type": "should be an array",
}


def _message(detail: ErrorDetails) -> str:
    if detail["type"] in ("value_error", "assertion_error"):
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    return _MESSAGES.get(detail["type"], detail["msg"])
