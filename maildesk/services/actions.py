"""Carry out checked agent commands on a ticket; every change is an audit event.

One small handler per command, found by name in `HANDLERS`. Never commits; the caller's
unit of work makes all of it happen, or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from maildesk.desk import Desk
from maildesk.models import (
    Agent,
    Contact,
    Event,
    Message,
    Participant,
    ParticipantRole,
    Ticket,
    TicketTag,
    TimeEntry,
    Watcher,
)
from maildesk.services.command_plan import Action, escalation_agents
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.notices import notify_agents, notify_status, watchers
from maildesk.services.tickets import Actor, add_participant, link_tickets, record_event, set_status


@dataclass
class Effects:
    """What the commands mean for the message that carried them."""

    note: bool = False  # the message is internal
    macro_texts: list[str] = field(default_factory=list)  # inserted where the commands stood
    notify_status: bool = False  # resolved or closed: the customer hears of it

    def body(self, text: str) -> str:
        """What the customer reads: macro texts, then the agent's own text."""
        return "\n\n".join([*self.macro_texts, text]).strip()


@dataclass
class Run:
    """Everything a handler needs: who acts on which ticket, when, and what it has done so far."""

    session: Session
    desk: Desk
    ticket: Ticket
    agent: Agent
    actor: Actor
    now: datetime
    effects: Effects

    def event(self, type: str, data: dict[str, Any], ticket: Ticket | None = None) -> None:
        record_event(
            self.session,
            ticket=ticket or self.ticket,
            actor=self.actor,
            type=type,
            data=data,
            now=self.now,
        )


def _status(run: Run, action: Action) -> None:
    set_status(run.session, ticket=run.ticket, status=action.value, actor=run.actor, now=run.now)
    run.ticket.snoozed_until = None
    run.effects.notify_status = action.value in ("resolved", "closed")


def _field(run: Run, action: Action) -> None:
    before = getattr(run.ticket, action.name)
    if before != action.value:
        setattr(run.ticket, action.name, action.value)
        run.event(action.name, {"from": before, "to": action.value})


def _assign(run: Run, action: Action) -> None:
    if run.ticket.assignee_id == action.value:
        return
    target = run.session.get(Agent, action.value) if action.value else None
    run.event("assign", {"to": target.email if target else None})
    run.ticket.assignee_id = action.value
    _tell_of_assignment(run, target)


def _tell_of_assignment(run: Run, target: Agent | None) -> None:
    """The new assignee (unless they took it themselves) and the watchers hear who has it."""
    extra = {
        "assigned_by": run.agent.name or run.agent.email,
        "assignee_name": (target.name or target.email) if target else "nobody",
    }
    if target is not None and target.id != run.agent.id:
        _notify(run, "notify_assigned", [target], extra | {"to_you": True})
    besides = {run.agent.id, target.id if target else None}
    others = watchers(run.session, ticket=run.ticket, besides=besides)
    _notify(run, "notify_assigned", others, extra | {"to_you": False})


def _notify(run: Run, template: str, agents: list[Agent], extra: dict[str, Any]) -> None:
    notify_agents(
        run.session,
        desk=run.desk,
        ticket=run.ticket,
        template=template,
        agents=agents,
        text="",
        now=run.now,
        extra=extra,
    )


def _tags(run: Run, action: Action) -> None:
    assert run.ticket.id is not None
    tags = [t.lower() for t in action.value]
    for tag in tags:
        existing = run.session.get(TicketTag, (run.ticket.id, tag))
        if action.name == "tag" and existing is None:
            run.session.add(TicketTag(ticket_id=run.ticket.id, tag=tag))
        elif action.name == "untag" and existing is not None:
            run.session.delete(existing)
    run.event(action.name, {"tags": tags})


def _cc(run: Run, action: Action) -> None:
    assert run.ticket.id is not None
    contact = get_or_create_contact(
        run.session,
        email=action.value,
        name="",
        free_mail=run.desk.settings.desk.free_mail_domains,
        now=run.now,
    )
    if action.name == "cc":
        add_participant(run.session, ticket=run.ticket, contact=contact, role=ParticipantRole.CC)
    else:
        row = run.session.get(Participant, (run.ticket.id, contact.id))
        if row is not None and row.role != "requester":
            run.session.delete(row)
    run.event(action.name, {"address": action.value})


def _watch(run: Run, action: Action) -> None:
    assert run.ticket.id is not None and run.agent.id is not None
    row = run.session.get(Watcher, (run.ticket.id, run.agent.id))
    if action.name == "watch" and row is None:
        run.session.add(Watcher(ticket_id=run.ticket.id, agent_id=run.agent.id))
    elif action.name == "unwatch" and row is not None:
        run.session.delete(row)
    run.event(action.name, {"agent": run.agent.email})


def _note(run: Run, action: Action) -> None:
    run.effects.note = True


def _snooze(run: Run, action: Action) -> None:
    set_status(run.session, ticket=run.ticket, status="pending", actor=run.actor, now=run.now)
    run.ticket.snoozed_until = action.value
    run.event("snooze", {"until": action.value.isoformat()})


def _time(run: Run, action: Action) -> None:
    assert run.ticket.id is not None and run.agent.id is not None
    run.session.add(
        TimeEntry(ticket_id=run.ticket.id, agent_id=run.agent.id, minutes=action.value, at=run.now)
    )
    run.event("time", {"minutes": action.value})


def _macro(run: Run, action: Action) -> None:
    run.effects.macro_texts.append(render_macro(run.session, run.desk, run.ticket, action.value))


def _escalate(run: Run, action: Action) -> None:
    ticket = run.ticket
    agents = escalation_agents(run.session, ticket=ticket)  # planning made sure there is one
    besides = {run.agent.id, *(agent.id for agent in agents)}
    agents += watchers(run.session, ticket=ticket, besides=besides)
    ticket.level += 1
    run.event("escalate", {"level": ticket.level})
    notify_agents(
        run.session,
        desk=run.desk,
        ticket=ticket,
        template="sla_breach",
        agents=agents,
        text="",
        now=run.now,
        extra={"target": "escalation", "due": "now", "overdue": "-", "level": ticket.level},
    )


def _merge(run: Run, action: Action) -> None:
    target = run.session.get(Ticket, action.value)
    assert target is not None
    merge(run.session, source=run.ticket, target=target, actor=run.actor, now=run.now)


HANDLERS: dict[str, Callable[[Run, Action], None]] = {
    "status": _status,
    "assign": _assign,
    "priority": _field,
    "queue": _field,
    "tag": _tags,
    "untag": _tags,
    "cc": _cc,
    "uncc": _cc,
    "watch": _watch,
    "unwatch": _watch,
    "note": _note,
    "snooze": _snooze,
    "time": _time,
    "macro": _macro,
    "escalate": _escalate,
    "merge": _merge,
}


def merge(session: Session, *, source: Ticket, target: Ticket, actor: Actor, now: datetime) -> None:
    """Move messages, participants and events into `target`; close `source` with a pointer."""
    assert source.id is not None and target.id is not None
    for model in (Message, Event):
        session.execute(
            update(model).where(col(model.ticket_id) == source.id).values(ticket_id=target.id)
        )
    for row in session.exec(select(Participant).where(Participant.ticket_id == source.id)).all():
        contact = session.get(Contact, row.contact_id)
        assert contact is not None
        add_participant(session, ticket=target, contact=contact, role=ParticipantRole.CC)
        session.delete(row)
    source.merged_into_id = target.id
    link_tickets(session, ticket=source, other=target, kind="merged-into")
    set_status(session, ticket=source, status="closed", actor=actor, now=now)
    record_event(
        session, ticket=source, actor=actor, type="merged", now=now, data={"into": target.ref}
    )
    record_event(
        session, ticket=target, actor=actor, type="merged", now=now, data={"from": source.ref}
    )


def render_macro(session: Session, desk: Desk, ticket: Ticket, name: str) -> str:
    requester = session.get(Contact, ticket.requester_id)
    context = {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue,
        "requester_name": (requester.name or requester.email) if requester else "",
        "requester_email": requester.email if requester else "",
        "desk_name": desk.settings.desk.name,
    }
    return desk.renderer.render_file(f"macros/{name}.txt", context)


def apply_actions(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    actions: list[Action],
    actor: Actor,
    now: datetime,
    text: str,
) -> Effects:
    """Apply every action in order; a merge goes last so other changes land on the source.

    `text` is the agent's own text after the commands: when the customer is sent a reply,
    that reply tells them the ticket is resolved or closed, otherwise a status mail does
    (a #note tells the customer nothing).
    """
    run = Run(session, desk, ticket, agent, actor, now, Effects())
    for action in sorted(actions, key=lambda a: a.name == "merge"):
        run.event("command", {"line": action.line})
        HANDLERS[action.name](run, action)
    effects = run.effects
    if effects.notify_status and not effects.note and not effects.body(text):
        notify_status(session, desk=desk, ticket=ticket, now=now)
    return effects
