"""Agent mail: commands and replies on a ticket, tickets started with `#to`, unproven claims."""

from __future__ import annotations

from dataclasses import dataclass

from maildesk.agent.lines import BadLine
from maildesk.agent.run import Said, StoreFn, Via, run_agent_message
from maildesk.agent.start import start_ticket
from maildesk.models import Agent, Ticket
from maildesk.notices import NoticeEvent, Thread, notify
from maildesk.pipeline.work import AgentNew, Append, HoldUnproven, StageEnv, Work
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor, record_event


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


def _answering(work: Work) -> Thread:
    """The thread of a reply to the agent's own mail (a receipt for what it asked)."""
    mail = work.parsed()
    return Thread.answering(mail.message_id, mail.references or mail.in_reply_to[:1])


def _rejected(errors: tuple[BadLine, ...] | list[BadLine]) -> str:
    return "agent commands rejected: " + "; ".join(f"{e.line}: {e.reason}" for e in errors)


def agent_on_ticket(env: StageEnv, work: Work, plan: Append, store: StoreFn) -> Done:
    """Run the agent's commands; store and relay what remains (unless #note)."""
    ticket = env.session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    mail = work.parsed()
    agent = _agent(env, mail.sender.email)  # type: ignore[union-attr]
    via = Via(
        store,
        threaded_by=work.thread.evidence,
        keep_empty=bool(mail.attachments),
        answering=_answering(work),
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
        answering=_answering(work),
    )
    if started.ticket is None or started.customer is None:
        return Done(None, "rejected", _rejected(started.errors))
    reason = f"started by agent {agent.email} for {started.customer.email}"
    return Done(started.ticket, "created", reason)


WARNED = "the agent was warned"
NOT_WARNED = "the agent was already warned within the hour"


def hold_unproven(env: StageEnv, work: Work, plan: HoldUnproven) -> Done:
    """Nothing runs; the real agent hears that someone wrote in their name (once an hour)."""
    ticket = env.session.get(Ticket, plan.ticket_id) if plan.ticket_id else None
    subject = work.parsed().subject
    if ticket is not None:
        record_event(
            env.session,
            ticket=ticket,
            actor=Actor("maildesk", f"mail:{work.item_id}"),
            type="held-unproven",
            now=env.now,
            data={"inbox_item": work.item_id, "agent": plan.agent_email},
        )
    facts = {"inbox_item": work.item_id, "mail_subject": subject, "claimed_from": plan.agent_email}
    done = notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.SPOOF_WARNING,
        ticket=ticket,
        now=env.now,
        actor_agent=_agent(env, plan.agent_email),
        facts=facts | ({} if ticket else {"subject": subject}),
    )
    return Done(ticket, "held", f"{plan.reason}; {WARNED if done.queued else NOT_WARNED}")
