"""Each report's chart: a PNG or SVG whose bars are the report's JSON figures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from maildesk.app import App
from maildesk.errors import InvalidInput
from maildesk.reports.charts import DPI, SIZE, chart, chart_format
from maildesk.reports.plots import MAX_BARS, plot_of
from tests.unit.reports.conftest import report_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AGES = ["< 1 day", "1-3 days", "3-7 days", "7-14 days", "14-30 days", ">= 30 days"]
#: report → (x labels, series): the figures test_figures.py checks in the JSON
EXPECTED: dict[str, tuple[list[str], dict[str, list[float]]]] = {
    "volume": (
        ["2026-11-02", "2026-11-03", "2026-11-10", "2026-11-20", "2026-11-22"],
        {"billing": [1, 0, 1, 0, 0], "general": [2, 2, 2, 1, 2]},
    ),
    "sla": (["premium", "standard"], {"met": [1, 5], "breached": [2, 2]}),
    "agents": (
        ["alice@example.com", "bob@example.com"],
        {"new": [0, 1], "open": [1, 1], "pending": [1, 0], "resolved": [3, 3], "breached": [1, 2]},
    ),
    "customers": (["Acme", "(none)"], {"tickets": [7, 4]}),
    "ratings": (["1", "2", "3", "4", "5"], {"ratings": [1, 1, 1, 0, 2]}),
    "backlog": (AGES, {"tickets": [2, 1, 0, 2, 0, 0]}),
    "summary": (
        ["first_response", "next_reply", "resolution"],
        {"median": [30, 40, 300], "p90": [120, 80, 900]},
    ),
}


def bars_of_svg(data: bytes) -> dict[str, dict[str, float]]:
    """series → label → value, read back from the ids the chart gave its bars."""
    found: dict[str, dict[str, float]] = {}
    for element in ET.fromstring(data).iter():
        gid = element.get("id") or ""
        if gid.startswith("bar:"):
            series, label, value = json.loads(gid.removeprefix("bar:"))
            found.setdefault(series, {})[label] = value
    return found


def as_bars(x: list[str], series: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {name: dict(zip(x, map(float, values), strict=True)) for name, values in series.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_svg_chart_draws_the_reports_figures(history: App, name: str) -> None:
    drawn = chart(report_of(history, name), "svg")
    x, series = EXPECTED[name]
    assert bars_of_svg(drawn.data) == as_bars(x, series)
    assert drawn.plot.x == x and drawn.plot.series == series


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_png_chart_is_a_png_of_the_reports_figures(history: App, name: str) -> None:
    document = report_of(history, name)
    drawn = chart(document, "png")
    assert drawn.data.startswith(PNG_SIGNATURE)
    width, height = (int.from_bytes(drawn.data[at : at + 4], "big") for at in (16, 20))
    assert (width, height) == (SIZE[0] * DPI, SIZE[1] * DPI)
    assert (drawn.plot.x, drawn.plot.series) == EXPECTED[name]
    assert drawn.plot == plot_of(document)


def test_the_customers_chart_shows_the_busiest_organisations_only() -> None:
    rows: list[dict[str, Any]] = [
        {"organisation": f"org{n}", "tickets": 100 - n, "minutes_logged": 0, "sla_tickets": 0,
         "sla_met_percent": None}
        for n in range(MAX_BARS + 5)
    ]  # fmt: skip
    plot = plot_of({"report": "customers", "organisations": rows, "customers": []})
    assert plot.x == [f"org{n}" for n in range(MAX_BARS)]


def test_a_chart_file_is_a_png_or_an_svg() -> None:
    assert [chart_format("week.png"), chart_format("Week.SVG")] == ["png", "svg"]
    with pytest.raises(InvalidInput, match=r"not a \.png or \.svg file"):
        chart_format("week.pdf")
