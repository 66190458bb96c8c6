"""The exporter's liabilities are the report's figures: it prints them from the supplies' sums
alone (no meters' rows), and what it writes is byte for byte what the report's whole document
gives: a closed month, the next one begun and their quarter, with deemed energy on every
supply."""

import pytest

from levy.app.site import Site
from levy.config import load_config
from levy.core.calendar import parse_period
from levy.export.exporter import Exporter
from levy.export.points import liability_points
from levy.ledger.store import Ledger
from levy.report.figures import build_figures
from levy.report.render import to_document
from tests.app.scenario import write_feed
from tests.export.sites import site_toml
from tests.live.harness import levy


class Nowhere:
    target = "nowhere"

    def write(self, lines: list[str]) -> None:
        raise AssertionError("nothing is written here")

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    folder = tmp_path_factory.mktemp("october")
    config = site_toml(folder, "http://127.0.0.1:9", "levy")
    write_feed(folder / "october.jsonl")
    for argv in (
        ("replay", "-i", str(folder / "october.jsonl"), "--until", "2026-11-01T00:20:00+05:00"),
        ("close", "--period", "2026-10"),
    ):
        done = levy(*argv, "-c", str(config))
        assert done.returncode == 0, done.stderr
    return Site.from_config(load_config(config))


def reported(site: Site, last_ms: int, periods: list[str]) -> list[str]:
    """The liabilities as the report's own document gives them."""
    lines = []
    with Ledger(site.config.ledger.path, writer=False) as ledger:
        for label in periods:
            figures = build_figures(
                ledger, site.id, site.calendar, site.rates, parse_period(label), False
            )
            document = to_document(figures, site.calendar)
            lines += [p.to_line_protocol() for p in liability_points(figures, document, last_ms)]
    return lines


def test_the_exporter_s_liabilities_are_the_report_s_byte_for_byte(site: Site) -> None:
    exporter = Exporter(site, Nowhere(), lambda: 0)
    exporter.open()
    last_ms = exporter.last_accounted_ms()
    october, _ = site.calendar.period_bounds(parse_period("2026-10"))
    exported = [p.to_line_protocol() for p in exporter.liabilities(october, last_ms)]
    exporter.close()
    assert exported == reported(site, last_ms, ["2026-10", "2026-11", "2026-Q4"])
    assert [line.split(",")[1] for line in exported] == ["period=2026-10"] * 3 + [
        "period=2026-11"
    ] * 3 + ["period=2026-Q4"] * 3
    assert all("closed=true" in line for line in exported[:3])
