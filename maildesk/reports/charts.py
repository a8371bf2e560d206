"""Drawing a report's plot with matplotlib (the Agg backend), imported only when a chart is
asked for. Each bar carries its series, label and value as its SVG id (`bar:` + JSON), so a
chart can be read back."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from maildesk.errors import InvalidInput
from maildesk.reports.plots import Plot, plot_of

FORMATS = ("png", "svg")
SIZE = (8.0, 4.5)  # inches
DPI = 100  # a PNG is 800 by 450 pixels


@dataclass(frozen=True)
class Chart:
    plot: Plot  # exactly what was drawn
    format: str  # png | svg
    data: bytes


def chart_format(filename: str) -> str:
    """The format a chart file's name asks for: .png or .svg."""
    suffix = filename.rpartition(".")[2].lower()
    if "." not in filename or suffix not in FORMATS:
        raise InvalidInput(f"--chart: {filename!r} is not a .png or .svg file")
    return suffix


def bar_id(series: str, label: str, value: float) -> str:
    return "bar:" + json.dumps([series, label, value])


def _bars(axes: Any, plot: Plot) -> None:
    positions = list(range(len(plot.x)))
    count = len(plot.series) or 1
    width = 0.8 if plot.stacked else 0.8 / count
    base = [0.0] * len(plot.x)
    for n, (name, values) in enumerate(plot.series.items()):
        shift = 0.0 if plot.stacked else (n - (count - 1) / 2) * width
        xs = [p + shift for p in positions]
        bottom = base if plot.stacked else None
        bars = axes.bar(xs, values, width, bottom=bottom, label=name)
        for bar, label, value in zip(bars, plot.x, values, strict=True):
            bar.set_gid(bar_id(name, label, value))
        if plot.stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
    axes.set_xticks(positions, plot.x, rotation=45 if len(plot.x) > 6 else 0, ha="right")


def draw(plot: Plot, fmt: str) -> bytes:
    import matplotlib  # only when a chart is asked for

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI)
    axes = figure.add_subplot()
    _bars(axes, plot)
    axes.set_title(plot.title)
    axes.set_ylabel(plot.ylabel)
    if len(plot.series) > 1:
        axes.legend()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format=fmt, dpi=DPI)
    return out.getvalue()


def chart(document: dict[str, Any], fmt: str) -> Chart:
    """The report's chart in this format, and the plot it drew."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown chart format {fmt!r} (use {', '.join(FORMATS)})")
    plot = plot_of(document)
    return Chart(plot=plot, format=fmt, data=draw(plot, fmt))
