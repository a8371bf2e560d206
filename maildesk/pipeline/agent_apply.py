"""Agent mail: commands and replies on a ticket, and tickets started with `#to`.

A refusal writes nothing here: it comes back as a `Refusal` for the caller to stop on and tell
(after the stop's rollback, so the telling is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from maildesk.agent.lines import BadLine
from maildesk.agent.run import Said, StoreFn, Via, run_agent_message
from maildesk.agent.start import start_ticket
from maildesk.models import Agent, Ticket
from maildesk.notices import Thread
from maildesk.pipeline.work import AgentNew, Append, Handled, Refusal, StageEnv, Work
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor


@dataclass(frozen=True)
class Applied:
    """Agent mail carried out: the ticket it landed on, the outcome, and why."""

    ticket: Ticket
    outcome: Handled
    summary: str | None = None


def _agent(env: StageEnv, email: str) -> Agent:
    agent = find_agent(env.session, email=email)
    assert agent is not None
    return agent


def _answering(work: Work) -> Thread:
    """The thread of a reply to the agent's own mail (a receipt for what it asked)."""
    mail = work.parsed()
    return Thread.answering(mail.message_id, mail.references or mail.in_reply_to[:1])


def _refusal(work: Work, agent: Agent, ticket_id: int | None, errors: Sequence[BadLine]) -> Refusal:
    return Refusal(agent.email, ticket_id, work.parsed().subject, tuple(errors), _answering(work))


def agent_on_ticket(env: StageEnv, work: Work, plan: Append, store: StoreFn) -> Applied | Refusal:
    """Run the agent's commands; store and relay what remains (unless #note).

    One bad line and nothing changes; the refusal names every bad line.
    """
    ticket = env.session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    mail = work.parsed()
    agent = _agent(env, mail.sender.email)  # type: ignore[union-attr]
    via = Via(
        store,
        threaded_by=work.thread.evidence,
        keep_empty=bool(mail.attachments),
        mail_errors=False,  # told by the handler's on_stop, after the rollback
    )
    result = run_agent_message(
        env.session,
        desk=env.desk,
        ticket=ticket,
        agent=agent,
        said=Said.in_mail(mail.text),
        via=via,
        actor=Actor(agent.email, f"mail:{work.item_id}"),
        now=env.now,
    )
    if result.errors:
        return _refusal(work, agent, plan.ticket_id, result.errors)
    return Applied(result.ticket, Handled.APPENDED, work.thread.evidence)


def agent_new_ticket(
    env: StageEnv, work: Work, plan: AgentNew, store: StoreFn
) -> Applied | Refusal:
    """`#to customer@…` opens a ticket (in the routed queue) for the customer and sends them
    the message; one bad line and there is no ticket, and the refusal says why."""
    assert work.queue is not None, "the route handler runs first"
    agent = _agent(env, plan.agent_email)
    mail = work.parsed()
    started = start_ticket(
        env.session,
        desk=env.desk,
        agent=agent,
        said=Said.in_mail(mail.text),
        subject=mail.subject,
        queue=work.queue,
        store=store,
        actor=Actor(agent.email, f"mail:{work.item_id}"),
        now=env.now,
        mail_errors=False,
    )
    if started.ticket is None or started.customer is None:
        return _refusal(work, agent, None, started.errors)
    summary = f"started by agent {agent.email} for {started.customer.email}"
    return Applied(started.ticket, Handled.CREATED, summary)
