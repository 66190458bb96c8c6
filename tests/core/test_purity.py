"""The core imports only the standard library and itself and never reads the clock; the collector
imports nothing of levy/ but its model."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK_CALLS = {
    "now",
    "utcnow",
    "today",
    "time",
    "time_ns",
    "monotonic",
    "perf_counter",
    "localtime",
}


def modules(folder: str) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted((ROOT / folder).rglob("*.py"))]


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_imports_only_the_standard_library_and_itself():
    for path, tree in modules("levy/core"):
        for name in imported(tree):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("levy.core"), f"{path}: {name}"


def test_core_never_reads_the_clock():
    for path, tree in modules("levy/core"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
                raise AssertionError(f"{path}:{node.lineno} reads the clock ({node.attr})")
            if isinstance(node, ast.ImportFrom) and node.module == "time":
                raise AssertionError(f"{path}:{node.lineno} imports from time")


def test_collector_imports_nothing_of_levy_but_its_model():
    allowed = {"levy.core.model", "levy.core.units", "levy.core.localtime"}
    for path, tree in modules("collector"):
        for name in imported(tree):
            if name.startswith("levy"):
                assert name in allowed, f"{path}: {name}"
