"""Reading a filing pack as a person does: a PDF's pages as images (`pdftoppm`) and its text
(`pdftotext -layout`), an HTML file opened in headless Chromium (a screenshot, and the DOM it
built, read back into its tables)."""

import subprocess
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
A4_WINDOW = "--window-size=1240,1754"


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: Path, folder: Path, dpi: int = 60) -> list[Path]:
    """Every page as a PNG, in order."""
    folder.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / "page")],
        check=True,
        timeout=120,
    )
    return sorted(folder.glob("page-*.png"), key=lambda path: int(path.stem.split("-")[1]))


def inked(png: Path) -> float:
    """The share of the image that is not white: 0 for a blank page."""
    grey = Image.open(png).convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[250:]) / (grey.width * grey.height)


def chromium(page: Path, profile: Path, *options: str) -> bytes:
    done = subprocess.run(
        [*CHROMIUM, f"--user-data-dir={profile}", *options, page.resolve().as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def screenshot(page: Path, png: Path, profile: Path) -> Path:
    chromium(page, profile, f"--screenshot={png}", A4_WINDOW)
    return png


def dom(page: Path, profile: Path) -> str:
    """The document as Chromium built it from the file."""
    return chromium(page, profile, "--dump-dom").decode("utf-8")


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts (heads included), and all of its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "svg", "title"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg", "title"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser
