"""Each report's figures over a November worked out by hand (tests/report_history.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.report_values import ReportScope
from maildesk.services.reports.agents import agents
from maildesk.services.reports.backlog import backlog
from maildesk.services.reports.catalogue import REPORTS, Compute
from maildesk.services.reports.customers import customers
from maildesk.services.reports.ratings import ratings
from maildesk.services.reports.scope import check_scope
from maildesk.services.reports.sla import sla
from maildesk.services.reports.stats import nearest_rank
from maildesk.services.reports.summary import summary
from maildesk.services.reports.volume import volume
from tests.report_history import NOVEMBER
from tests.unit.reports.conftest import report_of


def figures(app: App, compute: Compute, scope: ReportScope = NOVEMBER) -> dict[str, Any]:
    with unit_of_work(app.engine) as session:
        return compute(session, scope, now=app.desk.clock.now())


def test_the_catalogue_holds_the_seven_reports_of_the_design() -> None:
    assert list(REPORTS) == [
        "summary",
        "sla",
        "agents",
        "customers",
        "ratings",
        "volume",
        "backlog",
    ]


def test_the_nearest_rank_is_the_ceiling_of_q_times_n() -> None:
    assert [nearest_rank(10, 1, 2), nearest_rank(10, 9, 10)] == [5, 9]
    assert [nearest_rank(6, 1, 2), nearest_rank(6, 9, 10)] == [3, 6]
    assert [nearest_rank(1, 1, 2), nearest_rank(3, 9, 10)] == [1, 3]


def test_the_summary_counts_the_month_and_its_times_by_nearest_rank(history: App) -> None:
    report = figures(history, summary)
    counts = {row["figure"]: row["tickets"] for row in report["counts"]}
    # T1-T10 and T13 created; T1-T6 resolved, T1 and T2 closed; T6 reopened; 5 still open
    assert counts == {"created": 11, "resolved": 6, "closed": 2, "reopened": 1, "open_backlog": 5}
    assert report["times"] == [
        # 5 10 15 20 [30] 45 60 90 [120] 240: interpolation would say 37.5 and 132
        {"measure": "first_response", "clock": "business", "count": 10, "median": 30, "p90": 120},
        # 10 [40] [80]
        {"measure": "next_reply", "clock": "wall-clock", "count": 3, "median": 40, "p90": 80},
        # 100 200 [300] 400 500 [900]: interpolation would say 350 and 700
        {"measure": "resolution", "clock": "business", "count": 6, "median": 300, "p90": 900},
    ]


def test_the_summary_of_one_queue(history: App) -> None:
    report = figures(history, summary, replace(NOVEMBER, queue="billing"))
    counts = {row["figure"]: row["tickets"] for row in report["counts"]}
    assert counts == {"created": 2, "resolved": 1, "closed": 0, "reopened": 0, "open_backlog": 1}
    assert report["times"][0] == {
        "measure": "first_response", "clock": "business", "count": 2, "median": 15, "p90": 60,
    }  # fmt: skip


def test_sla_compliance_per_policy_service_queue_and_category(history: App) -> None:
    rows = figures(history, sla)["compliance"]
    found = [
        (r["dimension"], r["name"], r["tickets"], r["met"], r["breached"], r["met_percent"])
        for r in rows
    ]
    assert found == [
        ("policy", "premium", 3, 1, 2, 33.3),
        ("policy", "standard", 7, 5, 2, 71.4),
        ("service", "mail", 5, 4, 1, 80.0),
        ("service", None, 5, 2, 3, 40.0),
        ("queue", "billing", 2, 1, 1, 50.0),
        ("queue", "general", 8, 5, 3, 62.5),
        ("category", "standard", 10, 6, 4, 60.0),
    ]


def test_sla_lists_the_breaching_tickets_and_what_each_missed(history: App) -> None:
    breaching = figures(history, sla)["breaching"]
    assert [(r["ticket"], r["policy"], r["breached"]) for r in breaching] == [
        ("TKT-10", "premium", "first_response"),  # newest first
        ("TKT-8", "premium", "next_reply"),  # a breach notice went out
        ("TKT-6", "standard", "resolution"),  # resolved after its due
        ("TKT-3", "standard", "first_response"),  # answered after its due
    ]


def test_agents_workload(history: App) -> None:
    rows = figures(history, agents)["agents"]
    assert rows == [
        {"agent": "alice@example.com", "name": "Alice", "new": 0, "open": 1, "pending": 1,
         "resolved": 3, "breached": 1, "minutes_logged": 45},
        {"agent": "bob@example.com", "name": "Bob", "new": 1, "open": 1, "pending": 0,
         "resolved": 3, "breached": 2, "minutes_logged": 65},
    ]  # fmt: skip


def test_customers_and_organisations(history: App) -> None:
    report = figures(history, customers)
    assert report["organisations"] == [
        {"organisation": "Acme", "tickets": 7, "minutes_logged": 90, "sla_tickets": 7,
         "sla_met_percent": 71.4},
        {"organisation": "(none)", "tickets": 4, "minutes_logged": 20, "sla_tickets": 3,
         "sla_met_percent": 33.3},
    ]  # fmt: skip
    assert [
        (r["customer"], r["tickets"], r["minutes_logged"], r["sla_met_percent"])
        for r in report["customers"]
    ] == [
        ("carol@acme.example", 4, 90, 75.0),
        ("erin@gmail.example", 4, 20, 33.3),
        ("dave@acme.example", 3, 0, 66.7),
    ]


def test_ratings_average_distribution_comments_and_low_ones(history: App) -> None:
    report = figures(history, ratings)
    assert report["csat"] == [{"ratings": 5, "average": 3.2}]  # 5 5 1 2 3; October's 1 is out
    assert [r["ratings"] for r in report["distribution"]] == [1, 1, 1, 0, 2]
    assert [(r["ticket"], r["comment"]) for r in report["comments"]] == [
        ("TKT-1", "Great"), ("TKT-3", "Too slow"), ("TKT-4", "Meh"),
    ]  # fmt: skip
    assert [(r["ticket"], r["score"]) for r in report["low"]] == [("TKT-3", 1), ("TKT-4", 2)]


def test_volume_per_day_and_queue(history: App) -> None:
    rows = figures(history, volume)["volume"]
    assert [(r["day"], r["queue"], r["created"]) for r in rows] == [
        ("2026-11-02", "billing", 1),
        ("2026-11-02", "general", 2),
        ("2026-11-03", "general", 2),
        ("2026-11-10", "billing", 1),
        ("2026-11-10", "general", 2),
        ("2026-11-20", "general", 1),
        ("2026-11-22", "general", 2),
    ]


def test_backlog_by_age_on_the_clock(history: App) -> None:
    rows = figures(history, backlog)["backlog"]
    # now 23 Nov 09:00: T10 and T13 from the 22nd, T9 from the 20th, T7 and T8 from the 10th
    assert [(r["age"], r["tickets"]) for r in rows] == [
        ("< 1 day", 2), ("1-3 days", 1), ("3-7 days", 0), ("7-14 days", 2),
        ("14-30 days", 0), (">= 30 days", 0),
    ]  # fmt: skip


def test_a_window_leaves_out_what_happened_outside_it(history: App) -> None:
    october = replace(
        NOVEMBER, since=datetime(2026, 10, 1, tzinfo=UTC), until=datetime(2026, 11, 1, tzinfo=UTC)
    )
    report = report_of(history, "summary", october)
    assert report["counts"][0] == {"figure": "created", "tickets": 1}
    assert report["times"][0]["median"] == 1000
    assert report["title"] == "Summary report 2026-10-01 \u2013 2026-10-31"


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("queue", "sales", "queue"),
        ("service", "hosting", "service"),
        ("category", "vip", "category"),
    ],
)
def test_a_name_that_names_nothing_is_an_error_naming_it(
    history: App, field: str, value: str, kind: str
) -> None:
    with pytest.raises(InvalidInput, match=f"unknown {kind} '{value}'"):
        check_scope(history.settings, replace(NOVEMBER, **{field: value}))
    with pytest.raises(InvalidInput, match=f"unknown {kind} '{value}'"):
        report_of(history, "summary", replace(NOVEMBER, **{field: value}))


def test_an_unknown_report_is_an_error(history: App) -> None:
    with pytest.raises(InvalidInput, match="unknown report 'speed'"):
        report_of(history, "speed")
