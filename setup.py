"""The per-message path compiled with mypyc (`[tool.levy] compiled` in pyproject.toml): the same
typed Python, made C extensions: about a quarter less CPU a replayed line.

Where no C compiler or no Python headers are found, or LEVY_PURE=1 is set, nothing is compiled
and every module runs as plain Python: the same results, slower. After editing a compiled
module, install again (`python3 -m pip install -e .`): an extension module is imported before
its source (`tests/test_compiled.py` says which are out of date).
"""

import os
import shutil
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def settings() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["tool"]["levy"])


def compiles() -> bool:
    """Whether an install here compiles: not asked not to (LEVY_PURE), and a C compiler and
    Python's headers found. `tests/test_compiled.py` asks it too."""
    if os.environ.get("LEVY_PURE", "") not in ("", "0"):
        return False
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(compiler) is not None and headers.is_file()


def extensions() -> list[object]:
    if not compiles():
        return []
    from mypyc.build import mypycify  # the build's own requirement (pyproject.toml)

    levy = settings()
    return list(mypycify(levy["compiled"], opt_level="3", group_name=levy["compiled_group"]))


if __name__ == "__main__":  # as the build runs it; a test imports it for `compiles`
    from setuptools import setup

    setup(ext_modules=extensions())
