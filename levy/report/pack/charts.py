"""The pack's charts, drawn with matplotlib's object API (no global pyplot state): the days by
supply, metered against deemed, and a timeline of deemed episodes per meter. Meant to be read
printed in black and white: series differ by grey level and hatching and are named in a legend,
never by colour alone; text is DejaVu Sans (Cyrillic ids included).

Bar heights and span widths are floats: they are positions on the page, drawn from the printed
figures; no figure is computed from them."""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from matplotlib import dates, rc_context
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from levy.core.model import Supply
from levy.report.daily import PrintedDay
from levy.report.pack.blocks import Chart
from levy.report.pack.fonts import FAMILY

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

WIDTH_IN = 7.2
PNG_DPI = 220
METERS_PER_CHART = 30
SHORTEST_SHARE = 0.004
"""An episode is drawn at least this share of the period wide."""
MARKED_SHARE = 0.02
"""An episode narrower than this share of the period also gets its reason's marker: a narrow
span's fill or hatching cannot be told apart on paper, a marker's shape can."""
LABEL_CHARS = 28
DAY_FORMAT = "%d.%m"

STYLE: "dict[RcKeyType, Any]" = {
    "font.family": FAMILY,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.linewidth": 0.6,
    "hatch.linewidth": 0.7,
    "svg.fonttype": "path",
    "svg.hashsalt": "levy-monitor",
    "path.simplify": False,
}
METERED = {"facecolor": "0.72", "edgecolor": "0.2", "linewidth": 0.3}
DEEMED = {"facecolor": "white", "edgecolor": "black", "hatch": "//////", "linewidth": 0.4}
REASON_STYLE: dict[str, dict[str, Any]] = {
    "no_baseline": {"facecolor": "0.85", "edgecolor": "black"},
    "meter_fault": {"facecolor": "black", "edgecolor": "black"},
    "no_data": {"facecolor": "white", "edgecolor": "black", "hatch": "////"},
    "register_decrease": {"facecolor": "white", "edgecolor": "black", "hatch": "xxx"},
    "implausible": {"facecolor": "0.5", "edgecolor": "black", "hatch": "..."},
}
OTHER_REASON = {"facecolor": "0.3", "edgecolor": "black"}
REASON_MARKER = {
    "no_baseline": ("o", "white"),
    "meter_fault": ("s", "black"),
    "no_data": ("^", "white"),
    "register_decrease": ("D", "0.6"),
    "implausible": ("v", "black"),
}
OTHER_MARKER = ("*", "black")


class Episode(NamedTuple):
    start: datetime
    end: datetime
    reason: str


@contextmanager
def house_style() -> Iterator[None]:
    with rc_context(STYLE):
        yield


def svg(chart: Chart) -> str:
    """The chart as an inline `<svg>` element (text drawn as paths: no font needed to view it)."""
    with house_style():
        out = io.StringIO()
        chart.draw().savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def png(chart: Chart) -> bytes:
    with house_style():
        out = io.BytesIO()
        chart.draw().savefig(out, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return out.getvalue()


def daily_chart(days: dict[Supply, list[PrintedDay]]) -> Figure:
    """One panel per supply that has energy in the period (both when neither has)."""
    billed = [s for s in Supply if any(day.metered or day.deemed for day in days[s])]
    supplies = billed or list(Supply)
    figure = Figure(figsize=(WIDTH_IN, 0.5 + 2.0 * len(supplies)), layout="constrained")
    axes = figure.subplots(len(supplies), 1, sharex=True, squeeze=False)[:, 0]
    for ax, supply in zip(axes, supplies, strict=True):
        series = days[supply]
        x = [day.day for day in series]
        metered = [day.metered / 1000 for day in series]
        deemed = [day.deemed / 1000 for day in series]
        ax.bar(x, metered, width=0.8, label="metered", **METERED)
        ax.bar(x, deemed, width=0.8, bottom=metered, label="deemed", **DEEMED)
        ax.set_title(f"{supply.value}: kWh per day", loc="left")
        ax.set_ylabel("kWh")
        ax.grid(axis="y", color="0.75", linewidth=0.4)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2, frameon=False)
        day_axis(ax, series[0].day, series[-1].day)
    return figure


def day_axis(ax: Any, first: date, last: date) -> None:
    ax.set_xlim(first - timedelta(days=0.6), last + timedelta(days=0.6))
    ax.xaxis.set_major_locator(dates.AutoDateLocator(minticks=5, maxticks=12))
    ax.xaxis.set_major_formatter(dates.DateFormatter(DAY_FORMAT))


def shortest_drawn(start: datetime, end: datetime) -> str:
    minutes = round((end - start).total_seconds() * SHORTEST_SHARE / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def timeline_chart(
    rows: list[tuple[str, list[Episode]]], start: datetime, end: datetime, zone: str
) -> Figure:
    """A row per meter, its episodes as spans styled by reason, over the whole period."""
    figure = Figure(figsize=(WIDTH_IN, 1.2 + 0.28 * len(rows)), layout="constrained")
    ax = figure.subplots()
    first, last = dates.date2num(start), dates.date2num(end)
    shortest, marked = (last - first) * SHORTEST_SHARE, (last - first) * MARKED_SHARE
    reasons: list[str] = []
    for row, (_, episodes) in enumerate(rows):
        for episode in episodes:
            left = dates.date2num(episode.start)
            width = dates.date2num(episode.end) - left
            style = REASON_STYLE.get(episode.reason, OTHER_REASON)
            ax.broken_barh([(left, max(width, shortest))], (row - 0.3, 0.6), linewidth=0.4, **style)
            if width < marked:
                shape, fill = REASON_MARKER.get(episode.reason, OTHER_MARKER)
                ax.plot(left + max(width, shortest) / 2, row, shape, **marker_style(fill))
            if episode.reason not in reasons:
                reasons.append(episode.reason)
    ax.set_yticks(range(len(rows)), [label(meter) for meter, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(first, last)
    tz = ZoneInfo(zone)
    ax.xaxis.set_major_locator(dates.AutoDateLocator(minticks=5, maxticks=12, tz=tz))
    ax.xaxis.set_major_formatter(dates.DateFormatter(DAY_FORMAT, tz=tz))
    ax.grid(axis="x", color="0.75", linewidth=0.4)
    ax.set_axisbelow(True)
    ordered = sorted(reasons, key=order)
    handles = [reason_handle(reason) for reason in ordered]
    ax.legend(
        handles=handles,
        labels=ordered,
        handler_map={tuple: HandlerTuple(ndivide=None)},
        loc="lower left",
        bbox_to_anchor=(0, 1),
        ncols=min(len(handles), 5),
        frameon=False,
        handleheight=1.4,
        handlelength=3.2,
    )
    return figure


def marker_style(fill: str) -> dict[str, Any]:
    return {
        "markersize": 6,
        "markerfacecolor": fill,
        "markeredgecolor": "black",
        "markeredgewidth": 0.7,
        "linestyle": "none",
    }


def reason_handle(reason: str) -> tuple[Patch, Line2D]:
    """The legend's key: the span's fill and the marker that names it on a narrow span."""
    shape, fill = REASON_MARKER.get(reason, OTHER_MARKER)
    span = Patch(linewidth=0.4, **REASON_STYLE.get(reason, OTHER_REASON))
    return span, Line2D([], [], marker=shape, **marker_style(fill))


def order(reason: str) -> int:
    known = list(REASON_STYLE)
    return known.index(reason) if reason in known else len(known)


def label(meter: str) -> str:
    return meter if len(meter) <= LABEL_CHARS else meter[: LABEL_CHARS - 1] + "…"
