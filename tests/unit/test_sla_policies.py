"""Which SLA policy a ticket falls under, and the arithmetic of its targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from maildesk.app import compile_sla
from maildesk.config import parse_settings, validate_settings
from maildesk.timing.calendar_config import calendars_from_config
from maildesk.timing.sla import FIRST_RESPONSE, RESOLUTION, SlaBook

OFFICE = {
    "name": "office",
    "timezone": "UTC",
    "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
}
POLICIES: list[dict[str, Any]] = [
    {"name": "everyone", "calendar": "office", "first_response": "4h", "resolution": "3d"},
    {"name": "high", "match": {"priority": ["high", "urgent"]}, "first_response": "2h"},
    {"name": "urgent", "match": {"priority": "urgent"}, "first_response": "1h"},
    {"name": "mail", "match": {"service": "email"}, "first_response": "3h"},
    {"name": "ops-urgent", "match": {"queue": "ops", "priority": "urgent"}, "resolution": "4h"},
    {
        "name": "premium-fast",
        "match": {"category": "premium", "priority": ["high", "urgent"]},
        "first_response": "30m",
    },
]
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def book(policies: list[dict[str, Any]] = POLICIES) -> SlaBook:
    data = {
        "queues": [{"name": "general"}, {"name": "ops"}],
        "services": [{"name": "email", "queue": "general"}],
        "categories": [{"name": "premium", "domains": ["bigcorp.example"]}],
        "calendars": [OFFICE],
        "sla": policies,
    }
    settings = parse_settings(data, Path("."))
    calendars, problems = calendars_from_config(list(settings.calendars))
    assert problems == []
    return compile_sla(settings, calendars)


def pick(**facts: str | None) -> str | None:
    base: dict[str, str | None] = {
        "service": None,
        "queue": "general",
        "priority": "normal",
        "category": "standard",
    }
    policy = book().pick(base | facts)
    return policy.name if policy else None


def test_a_policy_without_match_is_for_every_ticket() -> None:
    assert pick() == "everyone"


def test_priority_picks_the_extra_norm_and_the_most_specific_policy_wins() -> None:
    assert pick(priority="high") == "high"
    assert pick(priority="urgent") == "high"  # one key each: declared order breaks the tie
    assert pick(priority="urgent", queue="ops") == "ops-urgent"  # two keys beat one
    assert pick(priority="urgent", category="premium") == "premium-fast"


def test_service_and_category_choose_too() -> None:
    assert pick(service="email") == "mail"
    assert pick(category="premium") == "everyone"  # premium-fast asks for high priority too
    assert pick(category="premium", priority="high") == "premium-fast"


def test_no_policy_matching_means_no_deadlines() -> None:
    only_urgent = book([{"name": "urgent", "match": {"priority": "urgent"}, "resolution": "1h"}])
    assert only_urgent.pick({"priority": "normal"}) is None


def test_targets_count_business_minutes_of_the_calendar_and_the_paused_time() -> None:
    everyone = book().named("everyone")
    assert everyone is not None
    friday_four_pm = MONDAY + timedelta(days=4, hours=7)
    # 4h of office time from Friday 16:00: one hour on Friday, three on Monday
    assert everyone.due(FIRST_RESPONSE, friday_four_pm) == MONDAY + timedelta(days=7, hours=3)
    assert everyone.due(FIRST_RESPONSE, MONDAY, paused=60) == MONDAY + timedelta(hours=5)
    assert everyone.due("next_reply", MONDAY) is None  # a target the policy does not set
    # "3d" is 72 business hours, not three working days: nine office days of eight hours
    assert everyone.due(RESOLUTION, MONDAY) == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def test_the_warning_is_at_warn_at_of_the_target_in_business_time() -> None:
    everyone = book().named("everyone")
    assert everyone is not None
    due = everyone.due(FIRST_RESPONSE, MONDAY, paused=30)
    assert due is not None
    # 80% of 240 minutes, plus the 30 paused: 222 minutes after 09:00
    assert everyone.warning(FIRST_RESPONSE, MONDAY, due) == MONDAY + timedelta(minutes=222)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"name": "x"}, "sla[0]: a policy needs a target"),
        ({"name": "x", "first_response": "90s"}, "sla[0].first_response: must be a positive"),
        ({"name": "x", "resolution": "1h", "warn_at": 1.2}, "sla[0].warn_at: Input should be"),
        ({"name": "x", "resolution": "1h", "calendar": "night"}, "sla[0].calendar: unknown"),
        (
            {"name": "x", "resolution": "1h", "match": {"queue": ["ops", "nope"]}},
            "sla[0].match.queue: unknown queue 'nope'",
        ),
        (
            {"name": "x", "resolution": "1h", "match": {"category": "gold"}},
            "sla[0].match.category: unknown category 'gold' (categories: standard, premium)",
        ),
        ({"name": "x", "resolution": "1h", "match": {"colour": "red"}}, "sla[0].match.colour"),
    ],
)
def test_config_check_names_each_mistake_of_a_policy(policy: dict[str, Any], problem: str) -> None:
    data = {
        "queues": [{"name": "general"}, {"name": "ops"}],
        "categories": [{"name": "premium"}],
        "sla": [policy],
    }
    _, problems = validate_settings(data, Path("."))
    assert any(line.startswith(problem) for line in problems), problems


def test_two_policies_may_not_share_a_name() -> None:
    twice = [{"name": "x", "resolution": "1h"}, {"name": "x", "resolution": "2h"}]
    _, problems = validate_settings({"sla": twice}, Path("."))
    assert problems == ["sla[1].name: 'x' is already taken by sla[0]"]
