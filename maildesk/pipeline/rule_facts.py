"""What the rules read about one mail and its ticket, and their verdict as data.

Shared by the `rules` handler and `maildesk rules check`, so that a check sees exactly what
ingest would: the same event, the same facts, the same evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlmodel import Session, select

from maildesk.config import Settings
from maildesk.models import Contact, MessageRole, Ticket, TicketStatus
from maildesk.pipeline.work import Append, Create, StageEnv, Work
from maildesk.rules.decision import Decision
from maildesk.rules.engine import Evaluation, evaluate, facts_read
from maildesk.rules.facts import Event, Facts
from maildesk.services.categories import categorise, contact_category
from maildesk.services.views import ticket_tags


@dataclass(frozen=True)
class TicketState:
    """The ticket fields the conditions read, as they stand before the rules."""

    queue: str
    category: str
    service: str | None = None
    priority: str = "normal"
    status: str = TicketStatus.NEW.value
    tags: frozenset[str] = frozenset()


def rule_event(work: Work) -> Event | None:
    """ "new" for a customer's new ticket, "follow-up" for a customer's reply; None: no rules."""
    if work.automatic is not None:
        return None
    if isinstance(work.plan, Create):
        return "new"
    if isinstance(work.plan, Append) and work.plan.role == MessageRole.CUSTOMER:
        return "follow-up"
    return None


def state_of(session: Session, ticket: Ticket, *, tags: bool = True) -> TicketState:
    """The ticket as the rules see it; `tags=False` when no rule reads them (not looked up)."""
    assert ticket.id is not None
    return TicketState(
        queue=ticket.queue,
        category=ticket.category,
        service=ticket.service,
        priority=str(ticket.priority),
        status=str(ticket.status),
        tags=frozenset(ticket_tags(session, ticket_id=ticket.id)) if tags else frozenset(),
    )


def would_be_new(session: Session, settings: Settings, work: Work) -> TicketState:
    """The state a new ticket for this mail would start in (nothing is written)."""
    assert work.queue is not None
    sender = work.parsed().sender
    email = sender.email if sender else ""
    contact = session.exec(select(Contact).where(Contact.email == email)).first()
    if contact is not None:
        category = contact_category(session, settings=settings, contact=contact)
    else:
        category = categorise(settings, email=email, organisation=None)
    return TicketState(queue=work.queue, category=category)


def evaluate_mail(work: Work, env: StageEnv, event: Event, state: TicketState) -> Evaluation:
    """The desk's compiled rules over this mail (its text without quoted history, cut only
    when a rule reads the body)."""
    mail, desk = work.parsed(), env.desk
    body = mail.new_text if "body" in facts_read(desk.rules) else None
    facts = Facts(
        mail=mail,
        now=env.now,
        is_open=desk.is_open,
        event=event,
        envelope_to=work.envelope_to,
        body=body,
        mailbox=work.mailbox,
        category=state.category,
        queue=state.queue,
        service=state.service,
        priority=state.priority,
        status=state.status,
        tags=state.tags,
    )
    return evaluate(desk.rules, facts)


def decision_json(decision: Decision) -> dict[str, Any]:
    """The decision with stable keys and lists, as events and `rules check --json` show it
    (its values are flat: strings, numbers and tuples of strings, nothing to copy deeply)."""
    values = ((f.name, getattr(decision, f.name)) for f in fields(decision))
    return {key: list(v) if isinstance(v, tuple) else v for key, v in values}
