"""thread-match: which ticket a mail belongs to, by what evidence, and who the sender is to it.

Evidence, strongest first: a signed reply address (a rating address is one: its score rides on
the match for `decide`), the mail a bounce reports on, In-Reply-To/References naming a stored
or sent Message-ID, the subject tag. Evidence locates; the sender's relation decides what
happens.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlmodel import Session

from maildesk.addresses import VerifiedSigned
from maildesk.mail import InboundMail
from maildesk.models import Contact, Relation, Ticket
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.proof import signed_recipients
from maildesk.pipeline.work import StageEnv, Step, ThreadMatch, Work
from maildesk.services.contacts import find_agent, organisation_domain
from maildesk.services.tickets import (
    find_ticket,
    follow_merges,
    participant_emails,
    ticket_for_message_ids,
    ticket_with_requester,
)

NAME = "thread-match"


def _by_signed_address(work: Work, env: StageEnv) -> tuple[Ticket, VerifiedSigned] | None:
    """The first recipient signed for the sender or the customer (a rating address too)."""
    mail = work.parsed()
    sender = mail.sender.email if mail.sender else None
    for signed in signed_recipients(work, env, sender=sender):
        ticket = find_ticket(env.session, ref=signed.ref)
        if ticket is not None:
            return ticket, signed
    return None


def _by_message_ids(mail: InboundMail, session: Session) -> tuple[Ticket, str] | None:
    for header, ids in (("In-Reply-To", mail.in_reply_to), ("References", mail.references)):
        found = ticket_for_message_ids(session, ids=ids)
        if found is not None:
            ticket = ticket_with_requester(session, found[0])
            if ticket is not None:
                return ticket, f"{header} <{found[1]}>"
    return None


def _by_bounce(work: Work, session: Session) -> tuple[Ticket, str] | None:
    """A delivery status report locates the ticket of the mail it is about."""
    bounce = work.bounce
    found = ticket_for_message_ids(session, ids=bounce.message_ids[::-1]) if bounce else None
    ticket = session.get(Ticket, found[0]) if found else None
    return (ticket, f"bounce of <{found[1]}>") if ticket and found else None


def _by_subject_tag(mail: InboundMail, env: StageEnv) -> tuple[Ticket, str] | None:
    prefix = re.escape(env.desk.settings.desk.ticket_prefix)
    for ref in re.findall(rf"\[({prefix}-\d+)\]", mail.subject, flags=re.IGNORECASE):
        ticket = find_ticket(env.session, ref=ref)
        if ticket is not None:
            return ticket, f"subject tag [{ref.upper()}]"
    return None


def _relation(env: StageEnv, ticket: Ticket, sender: str) -> Relation:
    session, settings = env.session, env.desk.settings
    if find_agent(session, email=sender) is not None:
        return Relation.AGENT
    assert ticket.id is not None
    requester = session.get(Contact, ticket.requester_id)
    if requester is not None and requester.email == sender:
        return Relation.REQUESTER
    if sender in participant_emails(session, ticket_id=ticket.id):
        return Relation.PARTICIPANT
    free = settings.desk.free_mail_domains
    own = organisation_domain(sender, free)
    colleague = requester is not None and own == organisation_domain(requester.email, free)
    if settings.desk.admit_colleagues and own and colleague:
        return Relation.COLLEAGUE
    return Relation.STRANGER


def run(work: Work, env: StageEnv) -> Step:
    mail = work.parsed()
    if mail.sender is None:
        count = len(mail.from_)
        if work.automatic is None:
            return hold(
                f"no single sender: {mail.from_header_count} From headers, {count} usable addresses"
            ), work
    signed = _by_signed_address(work, env)
    located = (signed[0], f"signed address {signed[1].address}") if signed else None
    located = (
        located
        or _by_bounce(work, env.session)
        or _by_message_ids(mail, env.session)
        or _by_subject_tag(mail, env)
    )
    if located is None:
        return CONTINUE, work
    ticket = follow_merges(env.session, located[0])
    assert ticket.id is not None
    sender = mail.sender.email if mail.sender else ""
    relation = _relation(env, ticket, sender) if sender else Relation.STRANGER
    by = signed[1] if signed else None
    proof = by is not None and by.agent is not None
    match = ThreadMatch(ticket.id, located[1], relation, proof, by.score if by else None)
    return CONTINUE, replace(work, thread=match)
