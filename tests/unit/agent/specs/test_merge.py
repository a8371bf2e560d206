"""`#merge <REF>`: which ticket it names, and what moving this one into it does."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import select

from maildesk.agent.lines import Command
from maildesk.agent.parser import parse_line
from maildesk.agent.spec import Refusal
from maildesk.agent.specs import merge
from maildesk.models import Message, MessageRole
from maildesk.services.merge import merge_tickets
from maildesk.services.tickets import Actor, add_message
from tests.conftest import START
from tests.unit.agent.acting import apply, context, trail
from tests.unit.agent.conftest import Planner, new_ticket

[MERGE] = merge.SPECS
SYSTEM = Actor("system", "system")


def test_a_merge_names_a_ticket_ref_and_runs_once_after_the_other_commands() -> None:
    refs = ("TKT-2", "tkt-12", "X9-1", "42", "TKT2", "TKT-", "TKT-2a")
    assert [r for r in refs if MERGE.accepts(r, START, UTC)] == ["TKT-2", "tkt-12", "X9-1"]
    assert (MERGE.once, MERGE.last) == (True, True)
    assert parse_line("#merge tkt-2", START) == Command("merge", ("tkt-2",), "#merge tkt-2")


def test_a_merge_resolves_to_where_the_other_ticket_now_lives(planner: Planner) -> None:
    second, third = new_ticket(planner.session), new_ticket(planner.session)
    merge_tickets(
        planner.session, desk=planner.app.desk, source=second, target=third, actor=SYSTEM, now=START
    )

    assert MERGE.resolve(context(planner), ("tkt-2",)) == third.id


def test_no_ticket_merges_into_itself_or_into_one_merged_into_it(planner: Planner) -> None:
    other = new_ticket(planner.session)
    merge_tickets(
        planner.session,
        desk=planner.app.desk,
        source=other,
        target=planner.ticket,
        actor=SYSTEM,
        now=START,
    )
    ctx = context(planner)

    assert [MERGE.resolve(ctx, (ref,)) for ref in ("TKT-1", "tkt-2", "TKT-99")] == [
        Refusal(f"no other ticket {ref} (or it was merged into this)")
        for ref in ("TKT-1", "TKT-2", "TKT-99")
    ]


def test_the_agent_needs_rights_on_the_other_ticket(planner: Planner) -> None:
    billing = new_ticket(planner.session, queue="billing")

    refusal = MERGE.resolve(context(planner), (billing.ref or "",))

    assert refusal == Refusal(f"you may not act on {billing.ref} (queue billing)")
    assert MERGE.resolve(context(planner, by="alice@example.com"), ("TKT-2",)) == billing.id


def test_merging_moves_messages_and_trail_and_closes_the_ticket_with_a_pointer(
    planner: Planner,
) -> None:
    target = new_ticket(planner.session)
    add_message(
        planner.session,
        ticket=planner.ticket,
        now=START,
        direction="in",
        role=MessageRole.CUSTOMER,
        text="Still burning.",
    )

    apply(planner, "#merge TKT-2")

    assert (planner.ticket.status, planner.ticket.merged_into_id) == ("closed", target.id)
    assert planner.ticket.closed_at == START
    [moved] = planner.session.exec(select(Message)).all()
    assert (moved.ticket_id, moved.text) == (target.id, "Still burning.")
    assert trail(planner) == [
        ("status", {"from": "new", "to": "closed"}),
        ("merged", {"into": "TKT-2"}),
    ]
    assert trail(planner, target) == [
        ("command", {"line": "#merge TKT-2"}),
        ("merged", {"from": "TKT-1"}),
    ]
