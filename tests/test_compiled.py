"""The modules setup.py compiles with mypyc are compiled in this install, and from their current
source: an extension module is imported before its source, so one left from before an edit would
have the tests run code they do not read."""

import importlib
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["tool"]["levy"])


def loaded(name: str) -> Path:
    """Where module `name` was imported from."""
    return Path(str(importlib.import_module(name).__file__))


def module_of(source: Path) -> str:
    return ".".join(source.relative_to(ROOT).with_suffix("").parts)


def test_every_compiled_module_is_built_from_its_current_source() -> None:
    levy = settings()
    sources = [ROOT / str(name) for name in levy["compiled"]]  # type: ignore[attr-defined]
    if os.environ.get("LEVY_PURE", "") not in ("", "0"):
        for source in sources:
            assert loaded(module_of(source)) == source, f"LEVY_PURE is set: {source} is compiled"
        return
    # Each module's own extension only imports its part of the group's, which holds the code.
    group = loaded(f"{levy['compiled_group']}__mypyc")
    for source in sources:
        assert loaded(module_of(source)) != source, (
            f"{source.name} runs as Python: install with a C compiler and Python's headers "
            "(python3 -m pip install -e .), or set LEVY_PURE=1 to test the plain modules"
        )
        assert group.stat().st_mtime >= source.stat().st_mtime, (
            f"{source.relative_to(ROOT)} changed after it was compiled: "
            "install again (python3 -m pip install -e .)"
        )
