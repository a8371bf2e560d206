"""Telling an agent that their mail was held or refused, after the stop's rollback (so it stays).

On a ticket: a `commands-rejected` event and a notice carrying the ticket; else a mail of its own.
"""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.work import Refusal, StageEnv
from maildesk.services.agent_work import report_errors
from maildesk.services.contacts import find_agent
from maildesk.services.notices import tell_agent
from maildesk.services.tickets import Actor


def tell_refusal(env: StageEnv, refusal: Refusal, *, item_id: int) -> None:
    agent = find_agent(env.session, email=refusal.agent_email)
    assert agent is not None, "only a configured agent's mail is held or refused as theirs"
    ticket = env.session.get(Ticket, refusal.ticket_id) if refusal.ticket_id else None
    if ticket is not None:
        report_errors(
            env.session,
            desk=env.desk,
            ticket=ticket,
            agent=agent,
            errors=list(refusal.errors),
            actor=Actor(refusal.actor, f"mail:{item_id}"),
            now=env.now,
            kind=refusal.kind,
        )
        return
    tell_agent(
        env.session,
        desk=env.desk,
        agent=agent,
        errors=list(refusal.errors),
        subject=refusal.subject,
        now=env.now,
        kind=refusal.kind,
    )
