"""Agent mail carried out by the handler table: commands and replies on a ticket, `#to` tickets,
unproven claims held (the agent-commands and unproven handlers, over pipeline/agent_apply.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from sqlmodel import Session, col, select

from maildesk.agent.do import do_commands
from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.models import Contact, Event, Message, MessageRole, OutboxItem, Ticket, Visibility
from maildesk.notices.gates import SPOOF_WARNING_KIND as SPOOF_WARNING
from maildesk.pipeline.agent_apply import agent_on_ticket
from maildesk.pipeline.handlers.unproven import NOT_WARNED, WARNED
from maildesk.pipeline.work import (
    AgentNew,
    Append,
    HoldUnproven,
    Plan,
    Refusal,
    StageEnv,
    ThreadMatch,
    Work,
)
from maildesk.services.contacts import get_or_create_contact, set_contact
from maildesk.services.inbox import store_raw
from maildesk.services.origin import Origin
from maildesk.services.tickets import Actor, create_ticket
from tests.conftest import START
from tests.handlers import Done, carry_out
from tests.mails import mail

EVIDENCE = "signed address support+TKT-1.<sig>@example.com"


@dataclass
class Scene:
    app: App
    session: Session
    ticket: Ticket  # Carol's TKT-1 in general

    @property
    def env(self) -> StageEnv:
        return StageEnv(self.session, self.app.desk, START)

    def work(self, body: str, *, sender: str = "bob@example.com") -> Work:
        raw = mail(sender=sender, subject="Re: [TKT-1] Printer on fire", body=body)
        stored = store_raw(self.session, raw=raw, origin=Origin(transport="pipe"), now=START)
        thread = ThreadMatch(self.ticket.id or 0, EVIDENCE, "agent", agent_proof=True)
        return Work(stored.item_id, raw, mail=parse_mail(raw), thread=thread)

    def carry_out(self, work: Work, plan: Plan) -> Done:
        return carry_out(self.env, replace(work, plan=plan))

    def outbox(self) -> list[tuple[str, str]]:
        rows = self.session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))
        return [(r.recipients[0], r.kind) for r in rows]

    def tickets(self) -> list[str | None]:
        return [t.ref for t in self.session.exec(select(Ticket).order_by(col(Ticket.id)))]


@pytest.fixture
def scene(app: App) -> Iterator[Scene]:
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="Carol", free_mail=(), now=START
        )
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject="Printer on fire",
            queue="general",
            actor=Actor("carol@acme.test", "test"),
            now=START,
        )
        yield Scene(app, session, ticket)


# --- on a ticket -------------------------------------------------------------------------------


def test_an_agents_reply_runs_its_commands_and_reaches_the_customer(scene: Scene) -> None:
    plan = Append(scene.ticket.id or 0, "agent", "public")

    done = scene.carry_out(scene.work("#priority high\n\nOn its way."), plan)

    assert done == Done(scene.ticket, "appended", EVIDENCE)
    assert scene.ticket.priority == "high"
    [message] = scene.session.exec(select(Message)).all()
    assert (message.text, message.visibility) == ("On its way.", "public")
    assert scene.outbox() == [("carol@acme.test", "agent-reply")]


def test_a_reply_with_a_bad_line_is_rejected_and_nothing_is_stored(scene: Scene) -> None:
    plan = Append(scene.ticket.id or 0, "agent", "public")

    done = scene.carry_out(scene.work("#priority high\n#snooze never\n\nOk"), plan)

    assert (done.outcome, done.reason) == (
        "rejected",
        "agent commands rejected: #snooze never: not a future duration or date: 'never'",
    )
    assert scene.ticket.priority == "normal"
    assert scene.session.exec(select(Message)).all() == []
    assert scene.outbox() == [("bob@example.com", "notify")]  # the command error


def test_a_refused_reply_writes_nothing_itself_and_names_every_bad_line(scene: Scene) -> None:
    def store(ticket: Ticket, visibility: str, text: str) -> Message:
        raise AssertionError("a refused mail stores nothing")

    plan = Append(scene.ticket.id or 0, "agent", "public")
    refusal = agent_on_ticket(
        scene.env, scene.work("#priority extreme\n#queue nowhere\n\nOk"), plan, store
    )

    assert isinstance(refusal, Refusal)
    assert [e.line for e in refusal.errors] == ["#priority extreme", "#queue nowhere"]
    assert (refusal.agent_email, refusal.ticket_id) == ("bob@example.com", scene.ticket.id)
    assert scene.outbox() == []  # telling the agent is the handler's, after its stop
    assert scene.session.exec(select(Event).where(Event.type == "commands-rejected")).all() == []


# --- #to: a ticket started by an agent ---------------------------------------------------------


def start(scene: Scene, body: str) -> Done:
    work = replace(scene.work(body, sender="alice@example.com"), thread=None)  # to the desk itself
    return scene.carry_out(work, AgentNew("alice@example.com"))


def test_to_opens_a_ticket_for_the_customer_and_sends_them_the_message(scene: Scene) -> None:
    done = start(scene, "#to Dan@Acme.test\n#priority high\n\nYour toner is due.")

    assert done.ticket is not None and done.ticket.ref == "TKT-2"
    assert (done.outcome, done.reason) == (
        "created",
        "started by agent alice@example.com for dan@acme.test",
    )
    assert (done.ticket.priority, done.ticket.status) == ("high", "open")
    assert scene.outbox() == [("dan@acme.test", "agent-reply")]


def test_a_ticket_started_for_a_customer_takes_their_category(scene: Scene) -> None:
    set_contact(
        scene.session,
        email="dan@acme.test",
        category="vip",
        known_categories=["standard", "vip"],
        free_mail=(),
        now=START,
    )

    done = start(scene, "#to dan@acme.test\n\nYour toner is due.")

    assert done.ticket is not None and done.ticket.category == "vip"


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("Hello", "(none)", "start a ticket with exactly one #to address"),
        ("#to a@acme.test\n#to b@acme.test\n\nHi", "(none)", "exactly one #to address"),
        ("#to billing@example.com\n\nHi", "#to billing@example.com", "the desk's own addresses"),
        ("#to dan@acme.test\n#priority extreme\n\nHi", "#priority extreme", "unknown priority"),
    ],
)
def test_a_to_that_cannot_be_carried_out_creates_nothing_and_the_agent_hears_why(
    scene: Scene, body: str, line: str, reason: str
) -> None:
    done = start(scene, body)

    assert (done.ticket, done.outcome) == (None, "rejected")
    assert done.reason is not None and done.reason.startswith(f"agent commands rejected: {line}: ")
    assert reason in done.reason
    assert scene.tickets() == ["TKT-1"]  # the new ticket's savepoint rolled back
    assert scene.outbox() == [("alice@example.com", "notify")]


# --- a mail in an agent's name without proof ---------------------------------------------------


def hold(scene: Scene, ticket_id: int | None) -> Done:
    plan = HoldUnproven("bob@example.com", ticket_id, "agent address without proof")
    return scene.carry_out(scene.work("#assign me\n#close"), plan)


def test_an_unproven_mail_is_held_and_the_real_agent_warned_once_an_hour(scene: Scene) -> None:
    first, second = hold(scene, None), hold(scene, None)

    assert (first.outcome, first.reason) == ("held", f"agent address without proof; {WARNED}")
    assert (second.outcome, second.reason) == ("held", f"agent address without proof; {NOT_WARNED}")
    assert scene.outbox() == [("bob@example.com", SPOOF_WARNING)]
    assert scene.ticket.status == "new"


def test_an_unproven_mail_on_a_ticket_leaves_a_trace_there(scene: Scene) -> None:
    done = hold(scene, scene.ticket.id)

    assert (done.ticket, done.outcome) == (scene.ticket, "held")
    [event] = scene.session.exec(select(Event).where(Event.type == "held-unproven")).all()
    assert event.ticket_id == scene.ticket.id
    assert event.data["agent"] == "bob@example.com"
    assert scene.outbox() == [("bob@example.com", SPOOF_WARNING)]


# --- the same message by mail and by `maildesk ticket do` --------------------------------------


def test_mail_and_ticket_do_leave_the_same_trail(scene: Scene) -> None:
    carol = scene.session.get(Contact, scene.ticket.requester_id)
    assert carol is not None
    by_hand = create_ticket(
        scene.session,
        prefix="TKT",
        requester=carol,
        subject="Printer on fire",
        queue="general",
        actor=Actor("carol@acme.test", "test"),
        now=START,
    )
    plan = Append(scene.ticket.id or 0, MessageRole.AGENT, Visibility.PUBLIC)
    scene.carry_out(scene.work("#priority high\n#tag vip\n\nOn it."), plan)
    do_commands(
        scene.session,
        desk=scene.app.desk,
        ref=by_hand.ref or "",
        agent_email="bob@example.com",
        lines=["#priority high", "#tag vip"],
        text="On it.",
        now=START,
    )

    def trail(ticket: Ticket) -> list[tuple[str, list[str], str]]:
        rows = scene.session.exec(select(Event).where(Event.ticket_id == ticket.id))
        return [(e.type, sorted(e.data), e.actor) for e in rows if e.type != "created"]

    assert trail(scene.ticket) == trail(by_hand)
    assert [t for t, _, _ in trail(by_hand)] == [
        "command", "priority", "command", "tag", "message", "first-response", "status",
    ]  # fmt: skip
    [by_mail, typed] = scene.session.exec(select(Event).where(Event.type == "message")).all()
    assert (by_mail.data["threaded_by"], typed.data["threaded_by"]) == (EVIDENCE, None)
