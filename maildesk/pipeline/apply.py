"""Carry out a plan: create the ticket or append the message, participants and attachments.

The only stage-side code that writes; it never commits (the runner's unit of work does).
"""

from __future__ import annotations

from maildesk.addresses import local_part_matches
from maildesk.agent.run import StoreFn
from maildesk.mail import Address, InboundMail
from maildesk.models import (
    Attachment,
    Message,
    MessageRole,
    ParticipantRole,
    Relation,
    Ticket,
    TicketStatus,
    Visibility,
)
from maildesk.pipeline import agent_apply, announce
from maildesk.pipeline.agent_apply import Done
from maildesk.pipeline.work import (
    AgentNew,
    Append,
    Create,
    HoldUnproven,
    MatchBounce,
    StageEnv,
    Work,
)
from maildesk.quotes import strip_quoted
from maildesk.services.contacts import active_agents, get_or_create_contact
from maildesk.services.ticket_change import change
from maildesk.services.tickets import (
    Actor,
    add_message,
    add_participant,
    create_ticket,
    link_tickets,
    record_event,
)


def _store_message(
    env: StageEnv,
    ticket: Ticket,
    work: Work,
    role: MessageRole,
    visibility: Visibility,
    text: str,
) -> Message:
    mail = work.parsed()
    sender = mail.sender or (mail.from_[0] if mail.from_ else None)
    message = add_message(
        env.session,
        ticket=ticket,
        now=env.now,
        direction="out" if role == MessageRole.AGENT else "in",  # an agent writes as the desk
        visibility=visibility,
        role=role,
        author=sender.email if sender else "",
        author_name=sender.name if sender else "",
        subject=mail.subject,
        text=text,
        original=mail.text,
        html=mail.html,
        message_id=mail.message_id,
        inbox_item_id=work.item_id,
    )
    assert message.id is not None
    for part in mail.attachments:
        sha = env.desk.store.put(part.data)
        env.session.add(
            Attachment(
                message_id=message.id,
                filename=part.filename,
                content_type=part.content_type,
                size=len(part.data),
                sha256=sha,
            )
        )
    return message


def _cc_candidates(env: StageEnv, mail: InboundMail) -> list[Address]:
    """Who on To/Cc joins as a participant: neither the sender, the desk, nor any agent.

    Agents are those of the config and those added with `maildesk agent add` alike.
    """
    settings = env.desk.settings
    desk = settings.desk_addresses()
    agents = {a.email for a in settings.agents} | {a.email for a in active_agents(env.session)}
    sender = mail.sender.email if mail.sender else None
    return [
        address
        for address in mail.to + mail.cc
        if address.email != sender
        and address.email not in agents
        and not local_part_matches(address.email, desk)
    ]


def _add_cc_participants(env: StageEnv, ticket: Ticket, mail: InboundMail, actor: Actor) -> None:
    for address in _cc_candidates(env, mail):
        contact = get_or_create_contact(
            env.session,
            email=address.email,
            name=address.name,
            free_mail=env.desk.settings.desk.free_mail_domains,
            now=env.now,
        )
        if add_participant(env.session, ticket=ticket, contact=contact, role=ParticipantRole.CC):
            record_event(
                env.session,
                ticket=ticket,
                actor=actor,
                type="participant",
                data={"added": address.email},
                now=env.now,
            )


def create(env: StageEnv, work: Work, plan: Create, text: str) -> Ticket:
    mail, settings = work.parsed(), env.desk.settings
    assert mail.sender is not None
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
        queue=plan.queue,
        actor=actor,
        now=env.now,
    )
    _store_message(
        env, ticket, work, role=MessageRole.CUSTOMER, visibility=Visibility.PUBLIC, text=text
    )
    _add_cc_participants(env, ticket, mail, actor)
    if plan.linked_to is not None:
        _link_new_ticket(env, work, ticket, plan, actor)
    return ticket


def _link_new_ticket(env: StageEnv, work: Work, ticket: Ticket, plan: Create, actor: Actor) -> None:
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
    add_message(
        env.session,
        ticket=other,
        now=env.now,
        direction="in",
        visibility=Visibility.INTERNAL,
        role=MessageRole.SYSTEM,
        author="maildesk",
        subject=f"Linked ticket {ticket.ref}",
        text=note,
    )
    record_event(
        env.session,
        ticket=other,
        actor=actor,
        type="linked",
        data={"to": ticket.ref, "kind": plan.link_kind},
        now=env.now,
    )


def append(env: StageEnv, work: Work, plan: Append, text: str) -> tuple[Ticket, str]:
    """Append the mail to its ticket; returns the ticket and the outcome (appended/reopened)."""
    mail, session = work.parsed(), env.session
    ticket = session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    actor = Actor(mail.sender.email if mail.sender else "system", f"mail:{work.item_id}")
    message = _store_message(
        env, ticket, work, role=plan.role, visibility=plan.visibility, text=text
    )
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="message",
        now=env.now,
        data={
            "message_id": message.message_id,
            "role": plan.role,
            "relation": work.thread.relation,
            "threaded_by": work.thread.evidence,
        },
    )
    if plan.role == MessageRole.CUSTOMER:
        if work.thread.relation == Relation.COLLEAGUE and mail.sender is not None:
            contact = get_or_create_contact(
                session,
                email=mail.sender.email,
                name=mail.sender.name,
                free_mail=env.desk.settings.desk.free_mail_domains,
                now=env.now,
            )
            add_participant(session, ticket=ticket, contact=contact, role=ParticipantRole.CC)
        _add_cc_participants(env, ticket, mail, actor)
    if plan.reopen:
        change(
            session,
            ticket=ticket,
            actor=actor,
            now=env.now,
            status_event="reopen",
            status=TicketStatus.OPEN,
        )
        return ticket, "reopened"
    return ticket, "appended"


def carry_out(env: StageEnv, work: Work) -> Done:
    """Do what the plan says, then tell whoever must hear of it (in the same transaction)."""
    plan = work.plan
    if isinstance(plan, HoldUnproven):
        return agent_apply.hold_unproven(env, work, plan)
    if isinstance(plan, AgentNew):
        return agent_apply.agent_new_ticket(env, work, plan, _store_for(env, work))
    if isinstance(plan, MatchBounce):
        return Done(None, "dropped", announce.ticketless_bounce(env, work, plan))
    assert isinstance(plan, Create | Append)
    if isinstance(plan, Append) and plan.role == MessageRole.AGENT:
        return agent_apply.agent_on_ticket(env, work, plan, _store_for(env, work))
    raw_text = work.parsed().text
    text = raw_text if work.automatic else strip_quoted(raw_text)
    if isinstance(plan, Create):
        ticket = create(env, work, plan, text)
        announce.new_ticket(env, work, ticket, text)
        return Done(ticket, "created", work.thread.evidence if work.thread else None)
    ticket, outcome = append(env, work, plan, text)
    if plan.role == MessageRole.CUSTOMER:
        announce.customer_reply(env, ticket, text, work.parsed().sender)
    else:
        announce.system_mail(env, work)
    return Done(ticket, outcome, work.thread.evidence if work.thread else None)


def _store_for(env: StageEnv, work: Work) -> StoreFn:
    def store(ticket: Ticket, visibility: Visibility, text: str) -> Message:
        role = MessageRole.AGENT
        return _store_message(env, ticket, work, role=role, visibility=visibility, text=text)

    return store
