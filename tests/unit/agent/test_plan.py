"""Agent commands checked against the ticket, the agent's rights and the desk, all or none."""

from __future__ import annotations

from datetime import timedelta

from maildesk.agent.lines import BadLine
from maildesk.agent.rights import may_act
from maildesk.agent.specs.escalate import escalation_agents
from maildesk.services.contacts import find_agent_by
from tests.conftest import START
from tests.unit.agent.conftest import Planner, add, new_ticket


def test_good_commands_become_resolved_actions(planner: Planner) -> None:
    text = "#assign Alice\n#priority HIGH\n#tag vip printer\n#snooze 2h\n#time 90m\n\nOn it."

    actions, errors = planner.plan(text)

    assert errors == []
    assert [(a.name, a.value) for a in actions] == [
        ("assign", planner.agent("alice@example.com").id),
        ("priority", "high"),
        ("tag", ("vip", "printer")),
        ("snooze", START + timedelta(hours=2)),
        ("time", 90),
    ]
    assert actions[0].line == "#assign Alice"


def test_assign_me_and_none_name_the_agent_and_nobody(planner: Planner) -> None:
    actions, _ = planner.plan("#assign me")
    assert [a.value for a in actions] == [planner.agent("bob@example.com").id]

    actions, _ = planner.plan("#assign none")
    assert [a.value for a in actions] == [None]


def test_each_bad_line_is_named_with_its_reason_and_nothing_is_written(planner: Planner) -> None:
    text = (
        "#assign nobody\n#queue nowhere\n#macro missing\n#cc billing+x@example.com\n"
        "#merge TKT-1\n#to dan@acme.test\n#status open\n#status pending\n#frobnicate"
    )

    events_before = planner.events()

    _actions, errors = planner.plan(text)

    assert [(e.line, e.reason) for e in errors] == [
        ("#frobnicate", "unknown command #frobnicate"),
        ("#assign nobody", "no such agent: 'nobody'"),
        ("#queue nowhere", "no such queue: 'nowhere'"),
        ("#macro missing", "no macro named 'missing'"),
        ("#cc billing+x@example.com", "that is one of the desk's own addresses"),
        ("#merge TKT-1", "no other ticket TKT-1 (or it was merged into this)"),
        ("#to dan@acme.test", "#to only starts a new ticket (write to the desk, not a reply)"),
        ("#status pending", "#status may be given once per message"),
    ]
    assert planner.events() == events_before
    assert (planner.ticket.status, planner.ticket.queue, planner.ticket.assignee_id) == (
        "new",
        "general",
        None,
    )


def test_an_agent_outside_the_tickets_queue_may_do_nothing_there(planner: Planner) -> None:
    billing = new_ticket(planner.session, queue="billing")
    planner.ticket = billing

    _actions, errors = planner.plan("#priority high")

    assert errors == [BadLine("(all)", f"you may not act on {billing.ref} (queue billing)")]
    assert may_act(planner.agent("alice@example.com"), billing)  # a supervisor may


def test_merging_needs_rights_on_the_other_ticket_too(planner: Planner) -> None:
    billing = new_ticket(planner.session, queue="billing")
    other = new_ticket(planner.session)

    _actions, errors = planner.plan(f"#merge {billing.ref}")
    actions, no_errors = planner.plan(f"#merge {other.ref.lower()}")  # type: ignore[union-attr]

    assert [e.reason for e in errors] == [f"you may not act on {billing.ref} (queue billing)"]
    assert (no_errors, [a.value for a in actions]) == ([], [other.id])


def test_escalation_needs_an_available_agent_one_level_up(planner: Planner) -> None:
    _actions, errors = planner.plan("#escalate")
    assert [e.reason for e in errors] == [
        "no agent at a higher support level than 1 is available in queue 'general'"
    ]

    add(planner.session, "dora@example.com", "Dora", level=2)
    actions, errors = planner.plan("#escalate")

    assert (errors, [a.name for a in actions]) == ([], ["escalate"])
    assert [a.email for a in escalation_agents(planner.session, ticket=planner.ticket)] == [
        "dora@example.com"
    ]


def test_an_agent_is_found_by_email_or_by_a_name_only_they_have(planner: Planner) -> None:
    session = planner.session
    assert find_agent_by(session, " ALICE@example.com ").email == "alice@example.com"  # type: ignore[union-attr]
    assert find_agent_by(session, "bob").email == "bob@example.com"  # type: ignore[union-attr]

    add(session, "bobby@example.com", "Bob")

    assert find_agent_by(session, "Bob") is None  # two Bobs: the name names no one
    assert find_agent_by(session, "bobby@example.com") is not None
