"""The pack as one self-contained HTML file for A4: inline CSS with print rules, the charts as
inline SVG, the typeface embedded (cut down to the characters the page uses), every text escaped,
so ids arrive as the site wrote them (quotes, `<`, `&`, Cyrillic). The same file opens in any
browser and prints as the PDF reads."""

import html

from levy.report.pack import charts
from levy.report.pack.blocks import Block, Chart, Facts, Note, Section, Table
from levy.report.pack.content import sections, title
from levy.report.pack.fonts import FAMILY, MONO, MONO_FAMILY, SANS, SANS_BOLD, subset_base64
from levy.report.pack.model import Pack

CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm;
  @bottom-left { content: %(footer)s; font: 7pt "%(family)s"; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 7pt "%(family)s"; } }
html { color: #000; background: #fff; }
body { font: 9pt/1.35 "%(family)s", sans-serif; max-width: 186mm; margin: 8mm auto; }
h1 { font-size: 15pt; margin: 0 0 3mm; }
h2 { font-size: 12pt; margin: 0 0 2mm; border-bottom: 1pt solid #000; }
section + section { margin-top: 8mm; }
p { margin: 1.5mm 0; }
p.strong { font-weight: bold; border: 1.2pt solid #000; padding: 1.5mm 2mm; }
table { border-collapse: collapse; width: 100%%; margin: 2mm 0 3mm; }
caption { text-align: left; font-weight: bold; padding: 1mm 0; }
table { font-size: 8pt; }
th, td { text-align: left; vertical-align: top; padding: 0.6mm 1.2mm;
  border-bottom: 0.4pt solid #999; overflow-wrap: break-word; }
th { border-bottom: 0.8pt solid #000; font-weight: bold; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.w { white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 0.8pt solid #000; }
table.facts { width: auto; font-size: 9pt; }
table.facts th { border: 0; padding-right: 4mm; white-space: nowrap; }
table.facts td { border: 0; }
.mono { font-family: "%(mono)s", monospace; font-size: 8pt; overflow-wrap: anywhere; }
figure { margin: 2mm 0 3mm; break-inside: avoid; }
figure svg { width: 100%%; height: auto; display: block; }
figcaption { font-size: 8pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
@media print {
  body { margin: 0; max-width: none; }
  section.new-page { break-before: page; }
  section + section { margin-top: 0; }
}
"""

STRONG_CLASS = ' class="strong"'
MONO_CLASS = ' class="mono"'
TOTAL_CLASS = ' class="total"'
FONT_FACE = (
    '@font-face { font-family: "%s"; font-weight: %s; '
    'src: url(data:font/ttf;base64,%s) format("truetype"); }'
)


def render_html(pack: Pack) -> str:
    document = pack.document
    parts = sections(pack)
    body = "\n".join(section_html(section, first=i == 0) for i, section in enumerate(parts))
    heading = title(document)
    used = html.unescape(body) + heading
    fonts = "\n".join(
        [
            FONT_FACE % (FAMILY, "normal", subset_base64(SANS, used)),
            FONT_FACE % (FAMILY, "bold", subset_base64(SANS_BOLD, used)),
            FONT_FACE % (MONO_FAMILY, "normal", subset_base64(MONO, used)),
        ]
    )
    style = CSS % {"footer": css_string(heading), "family": FAMILY, "mono": MONO_FAMILY}
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(heading)}</title>\n"
        f"<style>\n{fonts}\n{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def css_string(text: str) -> str:
    """A CSS string literal that no text can end early, nor close the style element."""
    escaped = "".join(c if c.isalnum() or c in " .:-_" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def section_html(section: Section, first: bool) -> str:
    tag = "h1" if first else "h2"
    page = ' class="new-page"' if section.new_page else ""
    blocks = "\n".join(block_html(block) for block in section.blocks)
    return f"<section{page}>\n<{tag}>{esc(section.title)}</{tag}>\n{blocks}\n</section>"


def block_html(block: Block) -> str:
    if isinstance(block, Note):
        return f"<p{STRONG_CLASS if block.strong else ''}>{esc(block.text)}</p>"
    if isinstance(block, Facts):
        return facts_html(block)
    if isinstance(block, Table):
        return table_html(block)
    return chart_html(block)


def facts_html(facts: Facts) -> str:
    rows = "\n".join(
        f"<tr><th>{esc(label)}</th><td{MONO_CLASS if label in facts.mono else ''}>"
        f"{esc(value)}</td></tr>"
        for label, value in facts.lines
    )
    return f'<table class="facts"><tbody>\n{rows}\n</tbody></table>'


def cell(tag: str, text: str, kind: str) -> str:
    of = f' class="{kind}"' if kind else ""
    return f"<{tag}{of}>{esc(text)}</{tag}>"


def kind(table: Table, column: int) -> str:
    """`n` a figure (right, unbroken), `w` a time (unbroken), or plain text."""
    return "n" if column in table.numeric else "w" if column in table.whole else ""


def table_html(table: Table) -> str:
    caption = f"<caption>{esc(table.caption)}</caption>" if table.caption else ""
    heads = "".join(
        cell("th", head, "n" if i in table.numeric else "") for i, head in enumerate(table.heads)
    )
    rows = "\n".join(
        f"<tr{TOTAL_CLASS if row.total else ''}>"
        + "".join(cell("td", text, kind(table, i)) for i, text in enumerate(row.cells))
        + "</tr>"
        for row in table.rows
    )
    return f"<table>{caption}<thead><tr>{heads}</tr></thead><tbody>\n{rows}\n</tbody></table>"


def chart_html(chart: Chart) -> str:
    drawn = charts.svg(chart)
    labelled = drawn.replace("<svg ", f'<svg role="img" aria-label="{esc(chart.caption)}" ', 1)
    return f"<figure>{labelled}<figcaption>{esc(chart.caption)}</figcaption></figure>"
