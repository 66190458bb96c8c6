"""The filing pack: the report document as the pages an accountant hands to a tax inspector,
in HTML (`html.py`) and PDF (`pdf.py`). `content.py` lays the document out once as sections of
facts, tables and charts (`blocks.py`), so both faces carry the same figures, every one of them
the document's as printed; `charts.py` draws the charts with matplotlib, `fonts.py` holds the
one typeface both faces and the charts use."""

import logging

for library in ("fontTools", "matplotlib"):
    # their progress at INFO (every font table subset, a font cache built) is no user's business
    logging.getLogger(library).setLevel(logging.WARNING)
