"""The rules handler end to end: a customer writes, the rules act, the ack and notices follow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from maildesk.agent.do import do_commands
from maildesk.app import open_app
from maildesk.db import unit_of_work
from maildesk.errors import ConfigError
from maildesk.models import InboxItem, Ticket
from maildesk.pipeline.handlers import rules as rules_handler
from maildesk.pipeline.rule_facts import rule_event
from maildesk.pipeline.work import Work
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import CAROL, customer_writes, mails_to
from tests.mails import mail

RULES: list[dict[str, Any]] = [
    {
        "name": "invoices",
        "when": {"subject_contains": "invoice"},
        "then": {"service": "billing-help", "priority": "high", "tags": ["money"]},
    },
    {
        "name": "vip",
        "when": {"from_domain": "vip.test"},
        "then": {"acknowledge": False, "note": "VIP customer", "assign": "bob@example.com"},
        "stop": True,
    },
    {"name": "after vip", "when": {"from_domain": "vip.test"}, "then": {"tags": ["never"]}},
    {"name": "outage", "when": {"subject_contains": "outage"}, "then": {"auto_reply": "ack"}},
    {"name": "lottery", "when": {"subject_contains": "lottery"}, "then": {"hold": "spam?"}},
    {"name": "newsletter", "when": {"subject_contains": "newsletter"}, "then": {"drop": "bulk"}},
    {
        "name": "on call",
        "when": {"subject_contains": "server room"},
        "then": {"cc": "oncall@acme.test"},
    },
]
SERVICES = [{"name": "billing-help", "queue": "billing", "type": "request", "priority": "low"}]


def _desk(tmp_path: Path, url: str, clock: FixedClock, **overrides: Any) -> Iterator[Desk]:
    settings = make_settings(tmp_path, url, rules=RULES, services=SERVICES, **overrides)
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    yield from _desk(tmp_path, database_url, clock)


@pytest.fixture
def strict_desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    yield from _desk(tmp_path, database_url, clock, outbound={"ack_limit": 1})


def _events(ticket: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == kind]


def test_a_rule_sets_service_priority_and_tags_and_the_ack_and_notices_see_them(desk: Desk) -> None:
    ref, got = customer_writes(desk, subject="Wrong invoice")
    ticket = desk.ticket(ref)
    assert (ticket["queue"], ticket["service"], ticket["type"]) == (
        "billing",
        "billing-help",
        "request",
    )
    assert ticket["priority"] == "high"  # the rule's own priority beats the service's default
    assert ticket["tags"] == ["money"]
    assert [e["data"]["rule"] for e in _events(ticket, "rule")] == ["invoices"]
    assert {e["actor"] for e in _events(ticket, "priority")} == {"rule:invoices"}
    recorded = _events(ticket, "rules")[0]["data"]
    assert recorded["decision"]["hits"] == ["invoices"]
    assert "billing" in got[CAROL]["From"] or "[" in str(got[CAROL]["Subject"])
    assert "bob@example.com" not in got  # billing's agents only: alice
    assert "alice@example.com" in got


def test_a_stop_rule_ends_the_rules_says_no_ack_notes_and_assigns(desk: Desk) -> None:
    outcome = desk.receives(mail(sender="vip@vip.test", subject="Hello"))
    ticket = desk.ticket(outcome.ticket or "")
    assert "never" not in ticket["tags"]
    assert [e["data"]["reason"] for e in _events(ticket, "ack-skipped")] == ["suppressed by vip"]
    assert any(
        m["text"] == "VIP customer" and m["visibility"] == "internal" for m in ticket["messages"]
    )
    assert _events(ticket, "rules")[0]["data"]["stopped_by"] == "vip"
    assert mails_to(desk.sent(), "vip@vip.test") == []


def test_the_decided_assignee_rides_on_work() -> None:
    assert Work(item_id=1, raw=b"").assign_to is None
    assert rules_handler.NAME == "rules"
    assert rule_event(Work(item_id=1, raw=b"")) is None


def test_an_auto_reply_goes_to_a_person_but_never_to_machine_mail(desk: Desk) -> None:
    first = desk.receives(mail(subject="Big outage", message_id="o1@acme.test"))
    ref = first.ticket
    to_carol = mails_to(desk.sent(), CAROL)
    assert len(to_carol) == 2  # the ack, then the rule's auto-reply (the ack template)
    assert all(m["Auto-Submitted"] == "auto-replied" for m in to_carol)
    auto = desk.receives(
        mail(
            sender=CAROL,
            subject="Re: Big outage",
            in_reply_to="o1@acme.test",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert auto.ticket == ref
    assert mails_to(desk.sent(), CAROL) == []


def test_an_auto_reply_respects_the_ack_limit(strict_desk: Desk) -> None:
    ref, _ = customer_writes(strict_desk, subject="outage again")
    ticket = strict_desk.ticket(ref)
    skipped = _events(ticket, "auto-reply-skipped")
    assert skipped and "automatic mails this hour" in skipped[0]["data"]["reason"]


@pytest.mark.parametrize(("subject", "state"), [("lottery win", "held"), ("newsletter", "dropped")])
def test_hold_and_drop_rules_leave_the_item_with_the_reason_and_no_ticket(
    desk: Desk, subject: str, state: str
) -> None:
    outcome = desk.receives(mail(subject=subject))
    assert outcome.outcome == state and outcome.ticket is None
    assert outcome.reason is not None and outcome.reason.startswith("rules: ")
    with unit_of_work(desk.app.engine) as session:
        assert session.exec(select(Ticket)).all() == []
        item = session.exec(select(InboxItem)).one()
        assert item.state == state and item.reason == outcome.reason


def test_bad_rules_fail_loading_for_running(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, rules=[{"name": "x", "then": {"queue": "nowhere"}}]
    )
    with pytest.raises(ConfigError, match="unknown queue 'nowhere'"):
        open_app(settings)


def test_a_cc_rule_makes_a_participant_who_then_reads_the_agents_public_reply(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="Server room is hot")
    ticket = desk.ticket(ref)
    assert "oncall@acme.test" in ticket["participants"]
    assert [e["data"]["set"] for e in _events(ticket, "rule")] == [{"cc": ["oncall@acme.test"]}]

    with unit_of_work(desk.app.engine) as session:
        done = do_commands(
            session,
            desk=desk.app.desk,
            ref=ref,
            agent_email="alice@example.com",
            lines=[],
            text="We are on it.",
            now=desk.clock.now(),
        )
        assert not done.errors

    [reply] = [m for m in desk.sent() if "We are on it." in str(m.get_body())]
    assert "oncall@acme.test" in str(reply["To"]) + str(reply["Cc"])


ORDERED = [
    {"name": "first", "when": {"subject_contains": "invoice"}, "then": {"tags": ["a"]}},
    RULES[0],
    {"name": "last", "when": {"subject_contains": "invoice"}, "then": {"tags": ["b", "money"]}},
]


def test_rule_events_follow_the_changes_each_rule_made_in_rule_order(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    settings = make_settings(tmp_path, database_url, rules=ORDERED, services=SERVICES)
    app = open_app(settings, clock=clock)
    desk = Desk(app, clock)
    ticket = desk.ticket(customer_writes(desk, subject="Wrong invoice")[0])
    app.engine.dispose()
    by_rules = [
        (e["type"], e["actor"])
        for e in ticket["events"]
        if e["actor"].startswith("rule:") or e["type"] == "rules"
    ]
    assert by_rules[0] == ("rule", "rule:first")
    assert by_rules[-3:] == [
        ("rule", "rule:invoices"),
        ("rule", "rule:last"),
        ("rules", "maildesk"),
    ]
    assert {actor for _, actor in by_rules[1:-3]} == {"rule:invoices"}  # its changes, before it
    assert ticket["tags"] == ["a", "b", "money"]
