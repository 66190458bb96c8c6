"""The modules setup.py compiles with mypyc are compiled in this install where setup.py would
compile them, and from their current source: an extension module is imported before its source,
so one left from before an edit would have the tests run code they do not read."""

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def build_script() -> ModuleType:
    """setup.py as a module (it builds only when run as the build runs it)."""
    spec = importlib.util.spec_from_file_location("levy_build", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loaded(name: str) -> Path:
    """Where module `name` was imported from."""
    return Path(str(importlib.import_module(name).__file__))


def module_of(source: Path) -> str:
    return ".".join(source.relative_to(ROOT).with_suffix("").parts)


def test_every_compiled_module_is_built_from_its_current_source() -> None:
    build = build_script()
    levy = build.settings()
    sources = [ROOT / name for name in levy["compiled"]]
    if not build.compiles():  # LEVY_PURE, or no C compiler or headers here
        for source in sources:
            assert loaded(module_of(source)) == source, (
                f"{source} is compiled where setup.py would not compile it: install again"
            )
        return
    for source in sources:
        assert loaded(module_of(source)) != source, (
            f"{source.name} runs as Python: install again (python3 -m pip install -e .), or set "
            "LEVY_PURE=1 to test the plain modules"
        )
    # Each module's own extension only imports its part of the group's, which holds the code.
    group = loaded(f"{levy['compiled_group']}__mypyc")
    for source in sources:
        assert group.stat().st_mtime >= source.stat().st_mtime, (
            f"{source.relative_to(ROOT)} changed after it was compiled: "
            "install again (python3 -m pip install -e .)"
        )
