"""Agent mail: commands and replies on a ticket, tickets started with `#to`, unproven claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from maildesk.agent import tell
from maildesk.agent.lines import BadLine
from maildesk.agent.run import Said, StoreFn, Via, report_errors, run_agent_message
from maildesk.agent.start import start_ticket
from maildesk.models import Agent, Ticket
from maildesk.pipeline.work import AgentNew, Append, HoldUnproven, StageEnv, Work
from maildesk.services.contacts import find_agent
from maildesk.services.outbox import sent_recently
from maildesk.services.tickets import Actor


@dataclass(frozen=True)
class Done:
    """What carrying out a plan did: the ticket, the outcome, and why."""

    ticket: Ticket | None
    outcome: str  # created | appended | reopened | rejected | held
    reason: str | None = None


def _agent(env: StageEnv, email: str) -> Agent:
    agent = find_agent(env.session, email=email)
    assert agent is not None
    return agent


def _rejected(errors: tuple[BadLine, ...] | list[BadLine]) -> str:
    return "agent commands rejected: " + "; ".join(f"{e.line}: {e.reason}" for e in errors)


def agent_on_ticket(env: StageEnv, work: Work, plan: Append, store: StoreFn) -> Done:
    """Run the agent's commands; store and relay what remains (unless #note)."""
    ticket = env.session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    mail = work.parsed()
    agent = _agent(env, mail.sender.email)  # type: ignore[union-attr]
    result = run_agent_message(
        env.session,
        desk=env.desk,
        ticket=ticket,
        agent=agent,
        said=Said.in_mail(mail.text),
        via=Via(store, threaded_by=work.thread.evidence, keep_empty=bool(mail.attachments)),
        actor=Actor(agent.email, f"mail:{work.item_id}"),
        now=env.now,
    )
    if result.errors:
        return Done(ticket, "rejected", _rejected(result.errors))
    return Done(result.ticket, "appended", work.thread.evidence)


def agent_new_ticket(env: StageEnv, work: Work, plan: AgentNew, store: StoreFn) -> Done:
    """`#to customer@…` opens a ticket on the customer's behalf and sends them the message."""
    agent = _agent(env, plan.agent_email)
    mail = work.parsed()
    started = start_ticket(
        env.session,
        desk=env.desk,
        agent=agent,
        said=Said.in_mail(mail.text),
        subject=mail.subject,
        queue=plan.queue,
        store=store,
        actor=Actor(agent.email, f"mail:{work.item_id}"),
        now=env.now,
    )
    if started.ticket is None or started.customer is None:
        return Done(None, "rejected", _rejected(started.errors))
    reason = f"started by agent {agent.email} for {started.customer.email}"
    return Done(started.ticket, "created", reason)


WARNED = "the agent was warned"
NOT_WARNED = "the agent was already warned within the hour"


SPOOF_WARNING = "spoof-warning"  # the outbox kind of these warnings, counted to rate-limit them


def _may_warn(env: StageEnv, plan: HoldUnproven) -> bool:
    """At most one warning per agent an hour: a spoofer must not mail-bomb them through us."""
    since = env.now - timedelta(hours=1)
    return (
        sent_recently(env.session, kind=SPOOF_WARNING, recipient=plan.agent_email, since=since) == 0
    )


def hold_unproven(env: StageEnv, work: Work, plan: HoldUnproven) -> Done:
    """Nothing runs; the real agent hears that someone wrote in their name (once an hour)."""
    ticket = env.session.get(Ticket, plan.ticket_id) if plan.ticket_id else None
    if not _may_warn(env, plan):
        return Done(ticket, "held", f"{plan.reason}; {NOT_WARNED}")
    agent = _agent(env, plan.agent_email)
    subject = work.parsed().subject
    errors = [
        BadLine(
            f"mail {subject!r}",
            "held for review: sent in your name without proof "
            "(not a reply to a notification maildesk sent you)",
        )
    ]
    if ticket is not None:
        report_errors(
            env.session,
            desk=env.desk,
            ticket=ticket,
            agent=agent,
            now=env.now,
            actor=Actor("maildesk", f"mail:{work.item_id}"),
            errors=errors,
            kind=SPOOF_WARNING,
        )
    else:
        tell.errors_without_ticket(
            env.session,
            desk=env.desk,
            agent=agent,
            errors=errors,
            subject=subject,
            now=env.now,
            kind=SPOOF_WARNING,
        )
    return Done(ticket, "held", f"{plan.reason}; {WARNED}")
