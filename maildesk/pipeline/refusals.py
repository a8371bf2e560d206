"""Telling an agent that their commands were refused, after the stop's rollback (so it stays).

On a ticket: a `commands-rejected` event and the command-error mail on the ticket; else (a
refused `#to`) a mail of its own. Either answers the agent's own mail.
"""

from __future__ import annotations

from maildesk.agent import tell
from maildesk.agent.run import report_errors
from maildesk.models import Ticket
from maildesk.pipeline.work import Refusal, StageEnv
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor


def tell_refusal(env: StageEnv, refusal: Refusal, *, item_id: int) -> None:
    agent = find_agent(env.session, email=refusal.agent_email)
    assert agent is not None, "only a configured agent's mail is refused as theirs"
    ticket = env.session.get(Ticket, refusal.ticket_id) if refusal.ticket_id else None
    if ticket is not None:
        report_errors(
            env.session,
            desk=env.desk,
            ticket=ticket,
            agent=agent,
            errors=refusal.errors,
            actor=Actor(agent.email, f"mail:{item_id}"),
            now=env.now,
            answering=refusal.answering,
        )
        return
    tell.errors_without_ticket(
        env.session,
        desk=env.desk,
        agent=agent,
        errors=refusal.errors,
        subject=refusal.subject,
        now=env.now,
        answering=refusal.answering,
    )
