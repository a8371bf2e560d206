"""store: a person's or a machine's mail becomes a new ticket, or a message on its ticket.

A new ticket gets the requester's contact, category and the routed queue, and a link when a
stranger named another ticket or a reply came after the reopen window; a reply may reopen it.
Agent mail is left to `agent-commands`, unless it runs no command (an imported agent reply:
stored here as their public message, the customer counted as answered). What to announce
is decided here, sent by `announce`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maildesk.models import Message, MessageRole, Ticket, TicketStatus, Visibility
from maildesk.notices import no_watchers_yet
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.messages import store_message
from maildesk.pipeline.work import (
    Append,
    Create,
    Handled,
    Notice,
    NoticeKind,
    StageEnv,
    Step,
    ThreadMatch,
    Work,
)
from maildesk.services.categories import contact_category
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.ticket_change import begin, change
from maildesk.services.tickets import (
    Actor,
    add_system_note,
    create_ticket,
    link_tickets,
    record_event,
)

NAME = "store"


def _text(work: Work) -> str:
    """What a person wrote, without quoted history; machine mail is kept whole."""
    mail = work.parsed()
    return mail.text if work.automatic else mail.new_text


def _create(env: StageEnv, work: Work, plan: Create) -> Work:
    mail, settings = work.parsed(), env.desk.settings
    assert mail.sender is not None and work.queue is not None
    actor = Actor(mail.sender.email, f"mail:{work.item_id}")
    requester = get_or_create_contact(
        env.session,
        email=mail.sender.email,
        name=mail.sender.name,
        free_mail=settings.desk.free_mail_domains,
        now=env.now,
    )
    ticket = create_ticket(
        env.session,
        prefix=settings.desk.ticket_prefix,
        requester=requester,
        subject=mail.subject or "(no subject)",
        queue=work.queue,
        actor=actor,
        now=env.now,
        category=contact_category(env.session, settings=settings, contact=requester),
    )
    begin(env.session, desk=env.desk, ticket=ticket, now=env.now)
    assert ticket.id is not None
    no_watchers_yet(env.session, ticket.id)
    text = _text(work)
    store_message(
        env, ticket, work, role=MessageRole.CUSTOMER, visibility=Visibility.PUBLIC, text=text
    )
    if plan.linked_to is not None:
        _link(env, work, ticket, plan, actor)
    return replace(
        work,
        ticket_id=ticket.id,
        outcome=Handled.CREATED,
        summary=work.thread.evidence if work.thread else None,
        notices=(*work.notices, Notice(NoticeKind.NEW_TICKET, text)),
    )


def _link(env: StageEnv, work: Work, ticket: Ticket, plan: Create, actor: Actor) -> None:
    other = env.session.get(Ticket, plan.linked_to)
    assert other is not None and plan.link_kind is not None
    link_tickets(env.session, ticket=ticket, other=other, kind=plan.link_kind)
    evidence = work.thread.evidence if work.thread else ""
    record_event(
        env.session,
        ticket=ticket,
        actor=actor,
        type="linked",
        data={"to": other.ref, "kind": plan.link_kind, "evidence": evidence},
        now=env.now,
    )
    note = (
        f"{actor.name} is not a participant of this ticket but wrote about it "
        f"({evidence}); their mail became {ticket.ref}. Use #merge if it belongs here."
    )
    if plan.link_kind == "follow-up-of":
        note = f"A reply after this ticket was closed became the follow-up {ticket.ref}."
    add_system_note(
        env.session, ticket=other, now=env.now, subject=f"Linked ticket {ticket.ref}", text=note
    )
    record_event(
        env.session,
        ticket=other,
        actor=actor,
        type="linked",
        data={"to": ticket.ref, "kind": plan.link_kind},
        now=env.now,
    )


def _append(env: StageEnv, work: Work, plan: Append) -> Work:
    """The mail on its ticket, reopened if it waited; a customer's reply is announced."""
    mail, session = work.parsed(), env.session
    ticket = session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    author = mail.sender.email if mail.sender else ""
    actor = Actor(author or "system", f"mail:{work.item_id}")
    text = _text(work)
    message = store_message(
        env, ticket, work, role=plan.role, visibility=plan.visibility, text=text
    )
    _record(env, ticket, message, work.thread, plan, actor)
    notices = (
        (Notice(NoticeKind.CUSTOMER_REPLY, text, mail.sender),)
        if plan.role == MessageRole.CUSTOMER
        else ()
    )
    return replace(
        work,
        ticket_id=ticket.id,
        outcome=Handled.REOPENED if plan.reopen else Handled.APPENDED,
        summary=work.thread.evidence,
        notices=(*work.notices, *notices),
    )


def _record(
    env: StageEnv, ticket: Ticket, message: Message, thread: ThreadMatch, plan: Append, actor: Actor
) -> None:
    """The `message` event, saying how the mail found its ticket; a waiting ticket reopens."""
    record_event(
        env.session,
        ticket=ticket,
        actor=actor,
        type="message",
        now=env.now,
        data={
            "message_id": message.message_id,
            "role": plan.role,
            "relation": thread.relation,
            "threaded_by": thread.evidence,
        },
    )
    fields = _follows(ticket, plan, env)
    change(
        env.session,
        desk=env.desk,
        ticket=ticket,
        actor=actor,
        now=env.now,
        status_event="reopen",
        **fields,
    )


def _follows(ticket: Ticket, plan: Append, env: StageEnv) -> dict[str, Any]:
    """What the message changes: a reopen; a customer waits; an agent's reply answers."""
    fields: dict[str, Any] = {}
    if plan.reopen:
        fields["status"] = TicketStatus.OPEN
    if plan.role == MessageRole.CUSTOMER and ticket.customer_waiting_since is None:
        fields["customer_waiting_since"] = env.now  # the next-reply clock starts
    if plan.role == MessageRole.AGENT:
        fields["customer_waiting_since"] = None
        if ticket.first_response_at is None:
            fields["first_response_at"] = env.now
    return fields


def _stores(plan: Append) -> bool:
    """Whose appended mail this handler stores: all but an agent's that runs commands."""
    return plan.role != MessageRole.AGENT or not plan.run_commands


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if isinstance(plan, Create):
        return CONTINUE, _create(env, work, plan)
    if isinstance(plan, Append) and _stores(plan):
        return CONTINUE, _append(env, work, plan)
    return CONTINUE, work
