"""Carry out checked agent commands on a ticket; every change is an audit event.

Never commits; the caller's unit of work makes all of it happen, or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select, update

from maildesk.desk import Desk
from maildesk.models import (
    Agent,
    Contact,
    Event,
    Message,
    Participant,
    Ticket,
    TicketTag,
    TimeEntry,
    Watcher,
)
from maildesk.services.command_plan import Action
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.notices import notify_agents, notify_status, queue_agents
from maildesk.services.tickets import Actor, add_participant, link_tickets, record_event, set_status


@dataclass
class Effects:
    """What the commands mean for the message that carried them."""

    note: bool = False  # the message is internal
    macro_texts: list[str] = field(default_factory=list)  # inserted where the commands stood
    notify_status: bool = False


def _set_field(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, name: str, value: object
) -> None:
    before = getattr(ticket, name)
    if before == value:
        return
    setattr(ticket, name, value)
    record_event(
        session, ticket=ticket, actor=actor, type=name, now=now, data={"from": before, "to": value}
    )


def _assign(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    actor: Actor,
    agent: Agent,
    target_id: int | None,
    now: datetime,
) -> None:
    if ticket.assignee_id == target_id:
        return
    target = session.get(Agent, target_id) if target_id else None
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="assign",
        now=now,
        data={"to": target.email if target else None},
    )
    ticket.assignee_id = target_id
    if target is not None and target.id != agent.id:
        notify_agents(
            session,
            desk=desk,
            ticket=ticket,
            template="notify_assigned",
            agents=[target],
            text="",
            now=now,
            extra={"assigned_by": agent.name or agent.email},
        )


def _tags(session: Session, ticket: Ticket, actor: Actor, now: datetime, action: Action) -> None:
    assert ticket.id is not None
    for tag in action.value:
        existing = session.get(TicketTag, (ticket.id, tag.lower()))
        if action.name == "tag" and existing is None:
            session.add(TicketTag(ticket_id=ticket.id, tag=tag.lower()))
        elif action.name == "untag" and existing is not None:
            session.delete(existing)
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type=action.name,
        now=now,
        data={"tags": [t.lower() for t in action.value]},
    )


def _cc(
    session: Session, desk: Desk, ticket: Ticket, actor: Actor, now: datetime, action: Action
) -> None:
    assert ticket.id is not None
    contact = get_or_create_contact(
        session,
        email=action.value,
        name="",
        free_mail=desk.settings.desk.free_mail_domains,
        now=now,
    )
    if action.name == "cc":
        add_participant(session, ticket=ticket, contact=contact, role="cc")
    else:
        row = session.get(Participant, (ticket.id, contact.id))
        if row is not None and row.role != "requester":
            session.delete(row)
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type=action.name,
        now=now,
        data={"address": action.value},
    )


def _watch(
    session: Session, ticket: Ticket, actor: Actor, agent: Agent, now: datetime, watch: bool
) -> None:
    assert ticket.id is not None and agent.id is not None
    row = session.get(Watcher, (ticket.id, agent.id))
    if watch and row is None:
        session.add(Watcher(ticket_id=ticket.id, agent_id=agent.id))
    elif not watch and row is not None:
        session.delete(row)
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="watch" if watch else "unwatch",
        now=now,
        data={"agent": agent.email},
    )


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
        add_participant(session, ticket=target, contact=contact, role="cc")
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


def _escalate(session: Session, desk: Desk, ticket: Ticket, actor: Actor, now: datetime) -> None:
    ticket.level += 1
    record_event(
        session, ticket=ticket, actor=actor, type="escalate", now=now, data={"level": ticket.level}
    )
    level_agents = [a for a in queue_agents(session, queue=ticket.queue) if a.level >= ticket.level]
    notify_agents(
        session,
        desk=desk,
        ticket=ticket,
        template="sla_breach",
        agents=level_agents,
        text="",
        now=now,
        extra={"target": "escalation", "due": "now", "overdue": "-", "level": ticket.level},
    )


def _one(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    actor: Actor,
    action: Action,
    now: datetime,
    effects: Effects,
) -> None:
    name = action.name
    if name == "status":
        set_status(session, ticket=ticket, status=action.value, actor=actor, now=now)
        ticket.snoozed_until = None
        effects.notify_status = action.value in ("resolved", "closed")
    elif name == "assign":
        _assign(session, desk, ticket, actor, agent, action.value, now)
    elif name in ("priority", "queue"):
        _set_field(session, ticket, actor, now, name, action.value)
    elif name in ("tag", "untag"):
        _tags(session, ticket, actor, now, action)
    elif name in ("cc", "uncc"):
        _cc(session, desk, ticket, actor, now, action)
    elif name in ("watch", "unwatch"):
        _watch(session, ticket, actor, agent, now, name == "watch")
    elif name == "note":
        effects.note = True
    elif name == "snooze":
        set_status(session, ticket=ticket, status="pending", actor=actor, now=now)
        ticket.snoozed_until = action.value
        record_event(
            session,
            ticket=ticket,
            actor=actor,
            type="snooze",
            now=now,
            data={"until": action.value.isoformat()},
        )
    elif name == "time":
        assert ticket.id is not None and agent.id is not None
        session.add(TimeEntry(ticket_id=ticket.id, agent_id=agent.id, minutes=action.value, at=now))
        record_event(
            session,
            ticket=ticket,
            actor=actor,
            type="time",
            now=now,
            data={"minutes": action.value},
        )
    elif name == "macro":
        effects.macro_texts.append(render_macro(session, desk, ticket, action.value))
    elif name == "escalate":
        _escalate(session, desk, ticket, actor, now)
    elif name == "merge":
        target = session.get(Ticket, action.value)
        assert target is not None
        merge(session, source=ticket, target=target, actor=actor, now=now)


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
) -> Effects:
    """Apply every action in order; merges last so other changes land on the source first."""
    effects = Effects()
    ordered = sorted(actions, key=lambda a: a.name == "merge")
    for action in ordered:
        record_event(
            session, ticket=ticket, actor=actor, type="command", now=now, data={"line": action.line}
        )
        _one(session, desk, ticket, agent, actor, action, now, effects)
    if effects.notify_status and not effects.note:
        notify_status(session, desk=desk, ticket=ticket, now=now)
    return effects
