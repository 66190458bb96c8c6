"""The pack's typeface: DejaVu, as matplotlib ships it, so the charts, the PDF and the HTML draw
every glyph (Cyrillic meter ids among them) from the same files, whatever the host has."""

import base64
import io
from pathlib import Path

import matplotlib
from fontTools import subset
from fontTools.ttLib import TTFont

FONT_FOLDER = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
SANS = FONT_FOLDER / "DejaVuSans.ttf"
SANS_BOLD = FONT_FOLDER / "DejaVuSans-Bold.ttf"
MONO = FONT_FOLDER / "DejaVuSansMono.ttf"
FAMILY = "DejaVu Sans"
MONO_FAMILY = "DejaVu Sans Mono"


def subset_base64(font: Path, text: str) -> str:
    """The font cut down to the characters of `text`, as base64 TrueType: a page embeds a few
    kilobytes rather than the whole face, the same bytes for the same text."""
    options = subset.Options()
    options.recalc_timestamp = False
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    cutter = subset.Subsetter(options)
    cutter.populate(text=text)
    face = TTFont(font, recalcTimestamp=False)
    cutter.subset(face)
    out = io.BytesIO()
    face.save(out)
    return base64.b64encode(out.getvalue()).decode("ascii")
