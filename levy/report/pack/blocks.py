"""What the pack's pages are made of, whatever draws them: sections of notes, label-value facts,
tables and charts. Every text is final (figures as the document prints them); a face only lays
it out."""

from collections.abc import Callable
from dataclasses import dataclass, field

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Note:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Facts:
    """Label and value lines; `mono` values are digests, set in a fixed-width face."""

    lines: list[tuple[str, str]]
    mono: frozenset[str] = frozenset()
    """The labels whose values are digests."""


@dataclass(frozen=True)
class Row:
    cells: list[str]
    total: bool = False
    """A line that sums the lines above it: set in bold."""


@dataclass(frozen=True)
class Table:
    heads: list[str]
    rows: list[Row]
    widths: list[int]
    """Relative column widths (the PDF's; the HTML lets the browser decide)."""
    numeric: frozenset[int] = frozenset()
    """The columns of figures, aligned right."""
    whole: frozenset[int] = frozenset()
    """Columns never broken across lines (times)."""
    caption: str = ""


@dataclass(frozen=True)
class Chart:
    draw: Callable[[], Figure]
    caption: str


Block = Note | Facts | Table | Chart


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    new_page: bool = True
