"""The one entry point for mail the desk sends: look up the event's rows, queue their drafts.

Drafts are queued in the caller's transaction (never committed here); the sender renders and
composes them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlmodel import Session

from maildesk.db import after_commit
from maildesk.desk import Desk
from maildesk.models import Agent, OutboxItem, Ticket
from maildesk.notices.addressing import Thread, sender_identity, signed_reply_to
from maildesk.notices.contexts import ticket_context
from maildesk.notices.events import NoticeEvent
from maildesk.notices.occasion import Occasion, Reader
from maildesk.notices.quiet import why_quiet
from maildesk.notices.table import Audience, Row, rows_for
from maildesk.outbound.draft import Draft
from maildesk.outbound.outbox import enqueue_drafts


@dataclass(frozen=True)
class Withheld:
    """A row a gate stopped, and why."""

    template: str
    reason: str


@dataclass(frozen=True)
class Notified:
    """What `notify` did: the outbox rows written, and the table rows withheld with why."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # as written, with their ids
    withheld: list[Withheld] = field(default_factory=list)

    @property
    def queued(self) -> list[OutboxItem]:
        """The mails queued, as outbox items (built when asked: ingest never asks)."""
        return [OutboxItem(**row) for row in self.rows]


def notify(
    session: Session,
    *,
    desk: Desk,
    event: NoticeEvent,
    ticket: Ticket | None,
    now: datetime,
    actor_agent: Agent | None = None,
    facts: Mapping[str, Any] | None = None,
    thread: Thread | None = None,
    skip: Collection[str] = (),
) -> Notified:
    """Queue the mail of `event`: for each of its rows, readers → gate → drafts.

    `facts` are the event's own template keys (the text, the errors, …); `thread` defaults
    to the ticket's public thread (none outside a ticket); rows whose template is in `skip`
    are left out (a handler said no ack). In a quiet transaction (an import) every row is
    withheld, saying why.
    """
    rows = [row for row in rows_for(event) if row.template not in skip]
    hushed = why_quiet(session)
    if hushed is not None:
        return Notified(withheld=[Withheld(row.template, hushed) for row in rows])
    occasion = Occasion(session, desk, event, ticket, now, actor_agent, facts or {}, thread)
    return _queue(occasion, rows)


def _queue(occasion: Occasion, rows: list[Row]) -> Notified:
    """Each row's readers → gate → drafts. The drafts are written together when the rows are
    done, or before a gate: it may count the mail queued so far."""
    done = Notified()
    mailed: set[str] = set()
    base: dict[str, Any] | None = None
    drafts: list[Draft] = []
    for row in rows:
        readers = _readers(occasion, row, mailed)
        if not readers:
            continue
        if row.gate:
            done.rows.extend(_enqueue(occasion, drafts))
            drafts = []
        why = row.gate(occasion, readers) if row.gate else None
        if why:
            done.withheld.append(Withheld(row.template, why))
            continue
        base = base if base is not None else ticket_context(occasion) | dict(occasion.facts)
        context = base | dict(row.extra) | (row.context(occasion) if row.context else {})
        drafts += _drafts(occasion, row, readers, context)
        mailed.update(reader.address.email for reader in readers)
    done.rows.extend(_enqueue(occasion, drafts))
    return done


def _readers(occasion: Occasion, row: Row, mailed: set[str]) -> list[Reader]:
    """The row's readers, once each, without those already mailed (or the actor, if spared)."""
    actor = occasion.actor_agent
    spared = actor.email if actor is not None and row.spare_actor else None
    found: list[Reader] = []
    seen = set(mailed)
    for reader in row.readers(occasion):
        email = reader.address.email
        if email not in seen and email != spared:
            seen.add(email)
            found.append(reader)
    return found


def _drafts(
    occasion: Occasion, row: Row, readers: list[Reader], context: dict[str, Any]
) -> list[Draft]:
    """The row's drafts: one to all its customers, or one to each agent (signed for that
    agent, with their name). What they share is worked out once."""
    desk, ticket, thread = occasion.desk, occasion.ticket, occasion.thread
    override = desk.renderer.override_dir
    template = str(context[row.template_key]) if row.template_key else row.template
    shared = partial(
        Draft,
        template=template,
        templates_dir=str(override) if override is not None else None,
        desk=sender_identity(desk, ticket),
        kind=row.kind,
        ticket_ref=ticket.ref if ticket is not None else None,
        date=occasion.now,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
        automatic=row.automatic,
    )
    if row.audience is Audience.CUSTOMERS:
        actor = occasion.actor_agent
        named = {"agent_name": actor.name or actor.email} if actor else {}
        recipients = tuple(reader.address for reader in readers)
        reply_to = signed_reply_to(desk, ticket, None)
        return [shared(context=context | named, recipients=recipients, reply_to=reply_to)]
    return [
        shared(
            context=context | _agent_name(reader),
            recipients=(reader.address,),
            reply_to=signed_reply_to(desk, ticket, reader.agent),
        )
        for reader in readers
    ]


def _agent_name(reader: Reader) -> dict[str, str]:
    return {"agent_name": reader.address.name or reader.address.email}


def _enqueue(occasion: Occasion, drafts: list[Draft]) -> list[dict[str, Any]]:
    ticket, desk, session = occasion.ticket, occasion.desk, occasion.session
    ticket_id = ticket.id if ticket is not None else None
    rows = enqueue_drafts(session, drafts=drafts, ticket_id=ticket_id, now=occasion.now)
    for _ in rows:  # told one mail at a time, as the observers expect
        after_commit(session, lambda: desk.observer.queued(1))
    return rows
