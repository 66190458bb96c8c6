"""What every benchmark reports: figures, each beside the ceiling measured in the same run on the
same machine where it has one, and a target it meets or not; printed as one table."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    ceiling: str = ""
    """What the figure is set against, measured in the same run ("" where nothing is)."""
    ceiling_value: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        """The figure as a share of its ceiling (a rate): 1.0 is as fast as the ceiling."""
        if not self.ceiling_value:
            return None
        return self.value / self.ceiling_value


def ratio_figure(
    name: str, value: float, unit: str, ceiling: str, ceiling_value: float, target: float | None
) -> Figure:
    """A rate set against its ceiling, met when it reaches `target` of it (if there is one)."""
    met = None if target is None else value >= target * ceiling_value
    shown = f">= {target:g} of ceiling" if target else ""
    return Figure(name, value, unit, ceiling, ceiling_value, shown, met)


def bound_figure(name: str, value: float, unit: str, bound: float) -> Figure:
    """A cost (seconds, MB) with no ceiling, met when under `bound`."""
    return Figure(name, value, unit, target=f"< {bound:g} {unit}", met=value < bound)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def render(figures: Sequence[Figure]) -> str:
    """A Markdown table, so the README can take it as printed."""
    head = ["figure", "measured", "ceiling (same run)", "ratio", "target", "met"]
    rows = [head, ["---"] * len(head)]
    for figure in figures:
        ceiling = ""
        if figure.ceiling_value is not None:
            ceiling = f"{figure.ceiling}: {_number(figure.ceiling_value)} {figure.unit}"
        ratio = figure.ratio
        met = {None: "", True: "yes", False: "**no**"}[figure.met]
        rows.append(
            [
                figure.name,
                f"{_number(figure.value)} {figure.unit}",
                ceiling,
                "" if ratio is None else f"{ratio:.2f}",
                figure.target,
                met,
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
