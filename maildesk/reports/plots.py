"""What each report's chart shows, taken from its JSON document: bars over x labels, one
series per legend entry. Pure: no drawing here (see charts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_BARS = 20  # the customers chart: the organisations with most tickets


@dataclass(frozen=True)
class Plot:
    title: str
    x: list[str]
    series: dict[str, list[float]]  # legend entry → one value per x label
    stacked: bool = False
    ylabel: str = "tickets"


def _number(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _columns(
    rows: list[dict[str, Any]], label: str, names: tuple[str, ...]
) -> tuple[list[str], dict[str, list[float]]]:
    x = [str(r[label]) for r in rows]
    return x, {n: [_number(r[n]) for r in rows] for n in names}


def _volume(doc: dict[str, Any]) -> Plot:
    rows = doc["volume"]
    days = sorted({r["day"] for r in rows})
    queues = sorted({r["queue"] for r in rows})
    count = {(r["day"], r["queue"]): r["created"] for r in rows}
    series = {q: [float(count.get((d, q), 0)) for d in days] for q in queues}
    return Plot("Tickets created per day, by queue", days, series, stacked=True)


def _sla(doc: dict[str, Any]) -> Plot:
    rows = [r for r in doc["compliance"] if r["dimension"] == "policy"]
    x, series = _columns(rows, "name", ("met", "breached"))
    return Plot("SLA met and breached per policy", x, series, stacked=True)


def _agents(doc: dict[str, Any]) -> Plot:
    x, series = _columns(doc["agents"], "agent", ("new", "open", "pending", "resolved", "breached"))
    return Plot("Workload per agent", x, series)


def _customers(doc: dict[str, Any]) -> Plot:
    x, series = _columns(doc["organisations"][:MAX_BARS], "organisation", ("tickets",))
    return Plot("Tickets per organisation", x, series)


def _ratings(doc: dict[str, Any]) -> Plot:
    x, series = _columns(doc["distribution"], "score", ("ratings",))
    return Plot("Ratings per score", x, series, ylabel="ratings")


def _backlog(doc: dict[str, Any]) -> Plot:
    x, series = _columns(doc["backlog"], "age", ("tickets",))
    return Plot("Open tickets by age", x, series)


def _summary(doc: dict[str, Any]) -> Plot:
    x, series = _columns(doc["times"], "measure", ("median", "p90"))
    return Plot("Response and resolution times", x, series, ylabel="minutes")


PLOTS: dict[str, Callable[[dict[str, Any]], Plot]] = {
    "volume": _volume,
    "sla": _sla,
    "agents": _agents,
    "customers": _customers,
    "ratings": _ratings,
    "backlog": _backlog,
    "summary": _summary,
}


def plot_of(document: dict[str, Any]) -> Plot:
    return PLOTS[document["report"]](document)
