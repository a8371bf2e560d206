"""`#to` on an agent's new mail: a ticket for the customer, or, with one bad line, none at all."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from maildesk.agent.lines import BadLine
from maildesk.agent.run import Said, StoreFn
from maildesk.agent.start import Started, start_ticket
from maildesk.models import Contact, Message, MessageRole, Ticket, Visibility
from maildesk.notices import Thread
from maildesk.services.tickets import add_message
from tests.conftest import START
from tests.unit.agent.acting import actor, outbox
from tests.unit.agent.conftest import Planner

ALICE = "alice@example.com"
AGENT_MAIL = Thread.answering("agent-mail@example.com")
EXACTLY_ONE = BadLine("(none)", "start a ticket with exactly one #to address")


def store(planner: Planner) -> StoreFn:
    def keep(ticket: Ticket, visibility: Visibility, text: str) -> Message:
        return add_message(
            planner.session,
            ticket=ticket,
            now=START,
            direction="out",
            visibility=visibility,
            role=MessageRole.AGENT,
            author=ALICE,
            text=text,
        )

    return keep


def start(
    planner: Planner, *lines: str, text: str = "Your toner is due.", subject: str = "Toner"
) -> Started:
    return start_ticket(
        planner.session,
        desk=planner.app.desk,
        agent=planner.agent(ALICE),
        said=Said(lines, text),
        subject=subject,
        queue="general",
        store=store(planner),
        actor=actor(ALICE),
        now=START,
        answering=AGENT_MAIL,
    )


def refs(planner: Planner) -> list[str | None]:
    planner.session.flush()
    return [t.ref for t in planner.session.exec(select(Ticket).order_by(col(Ticket.id)))]


def test_to_opens_a_ticket_with_the_customer_as_requester_and_sends_them_the_message(
    planner: Planner,
) -> None:
    started = start(planner, "#to Dan@Acme.test", "#priority high")

    ticket, customer = started.ticket, started.customer
    assert ticket is not None and customer is not None and started.errors == ()
    assert (ticket.ref, ticket.subject, ticket.queue) == ("TKT-2", "Toner", "general")
    assert (customer.email, ticket.requester_id) == ("dan@acme.test", customer.id)
    assert (ticket.priority, ticket.status, ticket.first_response_at) == ("high", "open", START)
    [message] = planner.session.exec(select(Message)).all()
    assert (message.ticket_id, message.text, message.author) == (
        ticket.id,
        "Your toner is due.",
        ALICE,
    )
    [(to, template, context)] = outbox(planner)
    assert (to, template, context["reply"]) == (["dan@acme.test"], "agent_reply", False)


def test_a_message_without_text_is_kept_but_mails_the_customer_nothing(planner: Planner) -> None:
    started = start(planner, "#to dan@acme.test", text="", subject="")

    assert started.ticket is not None and started.ticket.subject == "(no subject)"
    [message] = planner.session.exec(select(Message)).all()
    assert (message.ticket_id, message.text) == (started.ticket.id, "")
    assert outbox(planner) == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("#priority extreme", "unknown priority (use low, normal, high, urgent): 'extreme'"),
        ("#assign nobody", "no such agent: 'nobody'"),  # refused only on the new ticket
    ],
)
def test_one_bad_other_line_rolls_the_ticket_back_and_the_agent_hears_why(
    planner: Planner, line: str, reason: str
) -> None:
    started = start(planner, "#to dan@acme.test", "#tag toner", line)

    assert started == Started(None, (BadLine(line, reason),))
    assert refs(planner) == ["TKT-1"]
    dan = planner.session.exec(select(Contact).where(Contact.email == "dan@acme.test")).first()
    assert dan is None
    assert planner.session.exec(select(Message)).all() == []
    [(to, template, context)] = outbox(planner)
    assert (to, template) == ([ALICE], "command_error")
    assert (context["errors"], context["subject"]) == ([{"line": line, "reason": reason}], "Toner")


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ((), EXACTLY_ONE),
        (("#priority high",), EXACTLY_ONE),
        (("#to dan@acme.test", "#to eve@acme.test"), EXACTLY_ONE),
        (
            ("#to Support+Toner@example.com",),
            BadLine("#to Support+Toner@example.com", "that is one of the desk's own addresses"),
        ),
    ],
)
def test_a_ticket_needs_exactly_one_customer_address(
    planner: Planner, lines: tuple[str, ...], error: BadLine
) -> None:
    started = start(planner, *lines)

    assert started == Started(None, (error,))
    assert refs(planner) == ["TKT-1"]
    assert [template for _, template, _ in outbox(planner)] == ["command_error"]


def test_a_refusal_can_be_left_for_the_caller_to_tell(planner: Planner) -> None:
    started = start_ticket(
        planner.session,
        desk=planner.app.desk,
        agent=planner.agent(ALICE),
        said=Said(("#to dan@acme.test", "#queue nowhere"), ""),
        subject="Toner",
        queue="general",
        store=store(planner),
        actor=actor(ALICE),
        now=START,
        mail_errors=False,
    )

    assert started == Started(None, (BadLine("#queue nowhere", "no such queue: 'nowhere'"),))
    assert (refs(planner), outbox(planner)) == (["TKT-1"], [])


def test_no_ticket_is_started_for_a_blacklisted_address(planner: Planner) -> None:
    started = start(planner, "#to spammer@example.net")

    reason = "spammer@example.net is blacklisted (address spammer@example.net in config)"
    assert started == Started(None, (BadLine("#to spammer@example.net", reason),))
    assert refs(planner) == ["TKT-1"]
    assert [template for _, template, _ in outbox(planner)] == ["command_error"]
