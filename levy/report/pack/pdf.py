"""The pack as an A4 PDF, with fpdf2: DejaVu embedded (subset, with its Unicode map, so the text
reads back and Cyrillic ids print), tables that break across pages with their heads repeated,
the charts as PNG at print resolution (fpdf2 draws SVG without hatch patterns), a footer naming
the pack on every page.

The same pack gives the same bytes: the creation date is the pack's "made at" instant (the
ledger clock), fpdf2 derives the file id from the content and that date, and nothing else in it
varies (compressed streams, font subsets and chart images are deterministic)."""

import io
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.table import Table as Grid

from levy.report.pack import charts
from levy.report.pack.blocks import Block, Chart, Facts, Note, Row, Section, Table
from levy.report.pack.content import sections, title
from levy.report.pack.fonts import MONO, SANS, SANS_BOLD
from levy.report.pack.model import Pack

FACE = "DejaVu"
MONO_FACE = "DejaVuMono"
MARGIN_MM = 14
TEXT_PT = 9
TABLE_PT = 7.5
SMALL_PT = 7
LINE_MM = 4.2
CELL_MM = 3.6
PAGES_ALIAS = "{nb}"
BOLD = FontFace(emphasis="BOLD")
FACTS_WIDTHS = (48, 134)


class PackDocument(FPDF):
    """Pages with the pack's footer."""

    def __init__(self, heading: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.heading = heading

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FACE, size=SMALL_PT)
        self.cell(0, 4, f"{self.heading}, page {self.page_no()} of {PAGES_ALIAS}", align="L")


def render_pdf(pack: Pack) -> bytes:
    heading = title(pack.document)
    pdf = PackDocument(heading)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.add_font(FACE, "", SANS)
    pdf.add_font(FACE, "B", SANS_BOLD)
    pdf.add_font(MONO_FACE, "", MONO)
    pdf.set_title(heading)
    pdf.set_subject(f"levy filing pack, period {pack.document['period']}")
    pdf.set_creator("levy-monitor")
    pdf.set_lang("en")
    pdf.set_creation_date(datetime.fromisoformat(pack.made_at))
    pdf.add_page()
    for i, section in enumerate(sections(pack)):
        draw_section(pdf, section, first=i == 0)
    return bytes(pdf.output())


def draw_section(pdf: FPDF, section: Section, first: bool) -> None:
    if section.new_page and not first:
        pdf.add_page()
    pdf.set_font(FACE, "B", 15 if first else 12)
    pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
    if not first:
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    for block in section.blocks:
        draw_block(pdf, block)


def draw_block(pdf: FPDF, block: Block) -> None:
    if isinstance(block, Note):
        draw_note(pdf, block)
    elif isinstance(block, Facts):
        draw_facts(pdf, block)
    elif isinstance(block, Table):
        draw_table(pdf, block)
    else:
        draw_chart(pdf, block)


def draw_note(pdf: FPDF, note: Note) -> None:
    if note.strong:
        pdf.set_font(FACE, "B", TEXT_PT)
        pdf.multi_cell(
            0, LINE_MM + 1, note.text, border=1, align="L", new_x="LMARGIN", new_y="NEXT"
        )
    else:
        pdf.set_font(FACE, "", TEXT_PT)
        pdf.multi_cell(0, LINE_MM, note.text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def draw_facts(pdf: FPDF, facts: Facts) -> None:
    pdf.set_font(FACE, "", TEXT_PT)
    with grid(
        pdf,
        FACTS_WIDTHS,
        sum(FACTS_WIDTHS),
        "LEFT",
        "NONE",
        LINE_MM,
        (0.4, 1),
        first_row_as_headings=False,
    ) as table:
        for label, value in facts.lines:
            row = table.row()
            row.cell(label, style=BOLD)
            mono = label in facts.mono
            row.cell(value, style=FontFace(family=MONO_FACE, size_pt=TABLE_PT) if mono else None)
    pdf.ln(2)


def draw_table(pdf: FPDF, table: Table) -> None:
    if table.caption:
        pdf.set_font(FACE, "B", TEXT_PT)
        pdf.cell(0, LINE_MM + 1, table.caption, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FACE, "", TABLE_PT)
    align = tuple("RIGHT" if i in table.numeric else "LEFT" for i in range(len(table.heads)))
    with grid(
        pdf,
        tuple(table.widths),
        pdf.epw,
        align,
        "HORIZONTAL_LINES",
        CELL_MM,
        (0.6, 1.4),
        headings_style=BOLD,
    ) as drawn:
        for cells in [Row(table.heads), *table.rows]:
            row = drawn.row()
            for text in cells.cells:
                row.cell(text, style=BOLD if cells.total else None)
    pdf.ln(3)


def grid(
    pdf: FPDF,
    widths: tuple[float, ...],
    width: float,
    align: str | tuple[str, ...],
    borders: str,
    line_height: float,
    padding: tuple[float, float],
    **options: Any,
) -> AbstractContextManager[Grid]:
    """A table `width` mm wide of columns in the proportions of `widths`, cells aligned to the
    top."""
    return pdf.table(
        col_widths=widths,
        width=width,
        align="LEFT",
        text_align=align,
        borders_layout=borders,
        line_height=line_height,
        padding=padding,
        v_align="TOP",
        **options,
    )


def draw_chart(pdf: FPDF, chart: Chart) -> None:
    image = charts.png(chart)
    width_px, height_px = png_size(image)
    height = pdf.epw * height_px / width_px
    if pdf.get_y() + height + LINE_MM > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(io.BytesIO(image), x=pdf.l_margin, w=pdf.epw, h=height)
    pdf.set_font(FACE, "", SMALL_PT)
    pdf.multi_cell(0, LINE_MM, chart.caption, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def png_size(image: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
