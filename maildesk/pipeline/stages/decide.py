"""decide: turn what is known of a mail into a plan — create a ticket, append (and reopen), or rate.

A requester's or participant's rating of a resolved ticket, or of one closed within
`[ratings] window`, is planned as a rating: by its first line (`maildesk.mail.ratings`) or by
the rating address it was sent to. Anyone else's, or a late one, is a reply like any other.

A delivery report that locates no ticket is planned as a bounce to match, never answered;
other automatic mail that locates none is dropped. An agent's address without proof is
planned as a hold (the `unproven` handler holds it and warns the agent).

An imported mail (`Work.quiet`) is history told again: it is stored where it belongs and
nothing more — an agent's mail as their message with no command run and no proof asked, a
customer's as a reply that neither reopens, rates nor starts a follow-up (the `history`
handler settles the ticket's status), a mail from nobody's thread as a new ticket.

Pure decision: reads the located ticket's state, writes nothing. The queue is the `route`
handler's to choose.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.mail.ratings import comment_of, read_rating
from maildesk.models import MessageRole, Relation, Ticket, TicketStatus, Visibility
from maildesk.pipeline.disposition import CONTINUE, Disposition, drop
from maildesk.pipeline.proof import compose_ref, proven_agent
from maildesk.pipeline.work import (
    AgentNew,
    Append,
    Create,
    HoldUnproven,
    MatchBounce,
    Plan,
    Rate,
    StageEnv,
    Step,
    Work,
)
from maildesk.services.contacts import find_agent
from maildesk.timing.clock import aware

NAME = "decide"


def _unproven(email: str) -> str:
    return f"unproven agent: mail from {email} without a signed agent address or trusted DKIM"


def _plan_for_history(work: Work, ticket_id: int) -> Plan:
    """An imported mail on its ticket: stored as its author's message, nothing replayed."""
    relation = work.thread.relation if work.thread else None
    if relation == Relation.STRANGER:
        return Create(linked_to=ticket_id, link_kind="named-by-stranger")
    role = MessageRole.AGENT if relation == Relation.AGENT else MessageRole.CUSTOMER
    return Append(ticket_id, role=role, visibility=Visibility.PUBLIC, run_commands=False)


def _plan_for_located(work: Work, env: StageEnv, ticket: Ticket) -> Plan | Disposition:
    match = work.thread
    assert match is not None and ticket.id is not None
    mail = work.parsed()
    if work.automatic:
        return Append(ticket.id, role=MessageRole.SYSTEM, visibility=Visibility.INTERNAL)
    if work.quiet:
        return _plan_for_history(work, ticket.id)
    if match.relation == Relation.AGENT:
        assert mail.sender is not None and ticket.ref is not None
        proven = match.agent_proof or proven_agent(
            work, env, agent_email=mail.sender.email, ref=ticket.ref
        )
        if not proven:
            return HoldUnproven(mail.sender.email, ticket.id, _unproven(mail.sender.email))
        return Append(ticket.id, role=MessageRole.AGENT, visibility=Visibility.PUBLIC)
    if match.relation == Relation.STRANGER:
        return Create(linked_to=ticket.id, link_kind="named-by-stranger")
    rating = _rating(work, env, ticket)
    if rating is not None:
        return rating
    if ticket.status == "closed":
        closed = aware(ticket.closed_at or ticket.updated_at)
        if env.now - closed > env.desk.settings.desk.reopen_window:
            return Create(linked_to=ticket.id, link_kind="follow-up-of")
    reopen = ticket.status in ("pending", "resolved", "closed")
    return Append(ticket.id, role=MessageRole.CUSTOMER, visibility=Visibility.PUBLIC, reopen=reopen)


RATERS = (Relation.REQUESTER, Relation.PARTICIPANT)


def _awaits_rating(env: StageEnv, ticket: Ticket) -> bool:
    """Resolved, or closed no longer ago than `[ratings] window`."""
    if ticket.status == TicketStatus.RESOLVED:
        return True
    if ticket.status != TicketStatus.CLOSED or ticket.closed_at is None:
        return False
    return env.now - aware(ticket.closed_at) <= env.desk.settings.ratings.window


def _rating(work: Work, env: StageEnv, ticket: Ticket) -> Rate | None:
    """A participant's rating, by the rating address the mail went to or by its first line."""
    match = work.thread
    assert match is not None and ticket.id is not None
    if match.relation not in RATERS or not _awaits_rating(env, ticket):
        return None
    text = work.parsed().new_text
    if match.score is not None:
        return Rate(ticket.id, match.score, comment_of(text), by_address=True)
    said = read_rating(text)
    return Rate(ticket.id, said.score, said.comment) if said else None


def _unthreaded_automatic(work: Work, automatic: str) -> Step:
    """Machine mail with no ticket: a delivery report may still name a mail we sent."""
    if work.bounce is not None and work.bounce.message_ids:
        return CONTINUE, replace(work, plan=MatchBounce(automatic))
    return drop(f"automatic mail ({automatic}) matching no ticket"), work


def run(work: Work, env: StageEnv) -> Step:
    mail = work.parsed()
    if work.thread is None:
        if work.automatic:
            return _unthreaded_automatic(work, work.automatic)
        agent = mail.sender and find_agent(env.session, email=mail.sender.email)
        if agent and not work.quiet:
            ref = compose_ref(env)
            if not proven_agent(work, env, agent_email=agent.email, ref=ref):
                return CONTINUE, replace(
                    work, plan=HoldUnproven(agent.email, None, _unproven(agent.email))
                )
            return CONTINUE, replace(work, plan=AgentNew(agent.email))
        return CONTINUE, replace(work, plan=Create())
    ticket = env.session.get(Ticket, work.thread.ticket_id)
    assert ticket is not None
    plan = _plan_for_located(work, env, ticket)
    if isinstance(plan, Disposition):
        return plan, work
    return CONTINUE, replace(work, plan=plan)
