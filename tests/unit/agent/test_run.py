"""An agent's message on a ticket: its commands run all or none, then what remains is published."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, col, select

from maildesk.agent.do import do_commands
from maildesk.agent.run import AgentResult, Said, Via, publish, run_agent_message
from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import NotFound
from maildesk.models import Agent, Event, Message, OutboxItem, Ticket, Visibility, Watcher
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, add_message, create_ticket
from tests.conftest import START


@dataclass
class Scene:
    app: App
    session: Session
    ticket: Ticket  # Carol's new ticket in general

    def agent(self, email: str = "bob@example.com") -> Agent:
        found = find_agent(self.session, email=email)
        assert found is not None
        return found

    def run(self, text: str) -> AgentResult:
        bob = self.agent()
        return run_agent_message(
            self.session,
            desk=self.app.desk,
            ticket=self.ticket,
            agent=bob,
            said=Said.in_mail(text),
            via=Via(self.store),
            actor=Actor(bob.email, "mail:1"),
            now=START,
        )

    def store(self, ticket: Ticket, visibility: Visibility, text: str) -> Message:
        return add_message(
            self.session,
            ticket=ticket,
            now=START,
            direction="out",
            visibility=visibility,
            role="agent",
            author="bob@example.com",
            text=text,
        )

    def outbox(self) -> list[dict[str, Any]]:
        rows = self.session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))
        return [{"to": r.recipients, "kind": r.kind, **(r.spec or {})} for r in rows]

    def events(self) -> list[str]:
        rows = self.session.exec(select(Event).where(Event.ticket_id == self.ticket.id))
        return [e.type for e in rows]


def new_ticket(session: Session) -> Ticket:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    return create_ticket(
        session,
        prefix="TKT",
        requester=carol,
        subject="Printer on fire",
        queue="general",
        actor=Actor("carol@acme.test", "test"),
        now=START,
    )


@pytest.fixture
def scene(app: App) -> Iterator[Scene]:
    with unit_of_work(app.engine) as session:
        yield Scene(app, session, new_ticket(session))


def test_one_bad_line_and_no_command_runs_and_the_agent_is_told_why(scene: Scene) -> None:
    run = scene.run("#priority high\n#status done\n\nFixed.")

    assert [(e.line, e.reason) for e in run.errors] == [
        ("#status done", "unknown status (use new, open, pending, resolved, closed): 'done'")
    ]
    assert (run.body, run.internal) == ("", True)
    assert (scene.ticket.priority, scene.ticket.status) == ("normal", "new")
    assert scene.events() == ["created", "commands-rejected"]
    [told] = scene.outbox()
    assert (told["to"], told["template"]) == (["bob@example.com"], "command_error")
    assert told["context"]["errors"][0]["line"] == "#status done"


def test_good_commands_run_and_the_text_after_them_is_the_body(scene: Scene) -> None:
    run = scene.run("#priority high\n#note\n\nChecked the fuse.")

    assert (run.errors, run.body, run.internal, run.ticket) == (
        (),
        "Checked the fuse.",
        True,
        scene.ticket,
    )
    assert scene.ticket.priority == "high"


def test_after_a_merge_the_message_belongs_to_the_target(scene: Scene) -> None:
    target = new_ticket(scene.session)

    run = scene.run(f"#merge {target.ref}\n\nSame fire.")

    assert run.ticket.id == target.id
    assert scene.ticket.merged_into_id == target.id


def test_a_public_reply_reaches_the_customer_and_watchers_and_is_the_first_response(
    scene: Scene,
) -> None:
    bob, alice = scene.agent(), scene.agent("alice@example.com")
    scene.session.add(Watcher(ticket_id=scene.ticket.id, agent_id=alice.id))
    scene.session.add(Watcher(ticket_id=scene.ticket.id, agent_id=bob.id))
    message = add_message(
        scene.session,
        ticket=scene.ticket,
        now=START,
        direction="out",
        role="agent",
        visibility="public",
        author=bob.email,
        text="A technician is on the way.",
    )

    publish(
        scene.session,
        desk=scene.app.desk,
        ticket=scene.ticket,
        agent=bob,
        message=message,
        actor=Actor(bob.email, "mail:1"),
        now=START,
    )

    assert [(m["to"], m["template"]) for m in scene.outbox()] == [
        (["carol@acme.test"], "agent_reply"),
        (["alice@example.com"], "notify_reply"),  # the author watches too, but wrote it
    ]
    assert (scene.ticket.first_response_at, scene.ticket.status) == (START, "open")
    assert scene.events()[-2:] == ["first-response", "status"]


def test_an_internal_note_is_published_to_no_one(scene: Scene) -> None:
    bob = scene.agent()
    note = add_message(
        scene.session,
        ticket=scene.ticket,
        now=START,
        direction="out",
        role="agent",
        visibility="internal",
        text="The customer sounds upset.",
    )

    publish(
        scene.session,
        desk=scene.app.desk,
        ticket=scene.ticket,
        agent=bob,
        message=note,
        actor=Actor(bob.email, "mail:1"),
        now=START,
    )

    assert scene.outbox() == []
    assert (scene.ticket.first_response_at, scene.ticket.status) == (None, "new")


def test_ticket_do_returns_errors_instead_of_mailing_them(scene: Scene) -> None:
    result = do_commands(
        scene.session,
        desk=scene.app.desk,
        ref=scene.ticket.ref or "",
        agent_email="bob@example.com",
        lines=["priority high", "#assign nobody"],
        text="",
        now=START,
    )

    assert [e.line for e in result.errors] == ["#assign nobody"]
    assert (result.relayed, scene.ticket.priority, scene.outbox()) == (False, "normal", [])


def test_ticket_do_stores_and_relays_the_message_as_the_agent(scene: Scene) -> None:
    result = do_commands(
        scene.session,
        desk=scene.app.desk,
        ref=scene.ticket.ref or "",
        agent_email="bob@example.com",
        lines=["priority high"],
        text="#1 priority for us.",
        now=START,
    )

    assert (result.errors, result.relayed, scene.ticket.priority) == ((), True, "high")
    [message] = scene.session.exec(select(Message).where(Message.role == "agent")).all()
    assert (message.author, message.text, message.visibility) == (
        "bob@example.com",
        "#1 priority for us.",
        "public",
    )
    assert [m["template"] for m in scene.outbox()] == ["agent_reply"]


def test_ticket_do_as_someone_who_is_no_agent_is_refused(scene: Scene) -> None:
    with pytest.raises(NotFound, match=r"no agent carol@acme\.test"):
        do_commands(
            scene.session,
            desk=scene.app.desk,
            ref=scene.ticket.ref or "",
            agent_email="carol@acme.test",
            lines=["#priority high"],
            text="",
            now=START,
        )
