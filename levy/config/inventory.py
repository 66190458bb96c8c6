"""The CSV meter inventory: for sites with thousands of rigs, kept as a spreadsheet export beside
the TOML. Same columns as `[[meters]]`, a header row, `#` comment lines, blank cell = default."""

import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO


class InventoryRow(NamedTuple):
    """A tuple: an inventory has a row per rig, 100,000 at a large site."""

    line: int
    """The row's line number in the file, for messages."""
    cells: dict[str, str]
    """Non-blank cells by column, stripped."""


@dataclass
class Inventory:
    path: Path
    rows: list[InventoryRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def where(self, line: int) -> str:
        return f"{self.path.name} line {line}"


class _DataLines:
    """Feeds csv.reader the lines that aren't blank or comments, remembering the file's own
    number of the last one so rows can be reported by the line an editor shows."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self._handle, start=1):
            self.number = number
            text = line.lstrip()
            if text and not text.startswith("#"):
                yield line


def read_inventory(
    path: Path, columns: Collection[str], required: Collection[str], distinct: Collection[str] = ()
) -> Inventory:
    """Read every row, collecting problems rather than stopping at the first. The cells of a
    column not in `distinct` are kept once per text (a format, a rating: the same on most of a
    large site's 100,000 rows)."""
    inventory = Inventory(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            _read_rows(handle, inventory, columns, required, distinct)
    except OSError as exc:
        inventory.problems.append(f"site.inventory: cannot read {path}: {exc.strerror}")
    except UnicodeDecodeError:
        inventory.problems.append(f"site.inventory: {path} is not UTF-8 text")
    return inventory


def _read_rows(
    handle: TextIO,
    inventory: Inventory,
    columns: Collection[str],
    required: Collection[str],
    distinct: Collection[str],
) -> None:
    lines = _DataLines(handle)
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header:
            inventory.problems.append(f"{inventory.path.name}: no header row")
            return
        if problems := _header_problems(header, columns, required):
            inventory.problems.extend(f"{inventory.where(lines.number)}: {p}" for p in problems)
            return
        shared = [name not in distinct for name in header]
        alike: dict[str, str] = {}
        for cells in reader:
            if len(cells) > len(header):
                inventory.problems.append(
                    f"{inventory.where(lines.number)}: {len(cells)} cells, but the header has "
                    f"{len(header)} columns"
                )
                continue
            stripped = zip(header, map(str.strip, cells), shared, strict=False)
            kept = {name: alike.setdefault(v, v) if once else v for name, v, once in stripped if v}
            inventory.rows.append(InventoryRow(lines.number, kept))
    except csv.Error as exc:
        inventory.problems.append(f"{inventory.where(lines.number)}: {exc}")


def _header_problems(
    header: list[str], columns: Collection[str], required: Collection[str]
) -> list[str]:
    """Reported once on the header, instead of the same message on every row."""
    problems = [
        f"unknown column {name!r} (columns: {', '.join(columns)})"
        for name in header
        if name not in columns
    ]
    problems += [
        f"column {name!r} appears twice" for name in dict.fromkeys(header) if header.count(name) > 1
    ]
    problems += [f"missing column {name!r}" for name in required if name not in header]
    return problems
