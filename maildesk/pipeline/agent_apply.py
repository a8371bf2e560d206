"""Agent mail: commands and replies on a ticket, tickets started with `#to`, unproven claims."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maildesk.commands import BadLine, parse_commands
from maildesk.models import Agent, Message, Ticket
from maildesk.pipeline.work import AgentNew, Append, HoldUnproven, StageEnv, Work
from maildesk.services.agent_work import publish, report_errors, run_commands
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.notices import tell_agent
from maildesk.services.tickets import Actor, create_ticket, record_event

StoreFn = Callable[[Ticket, str, str], Message]  # (ticket, visibility, text) → stored message


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
    agent = _agent(env, work.parsed().sender.email)  # type: ignore[union-attr]
    actor = Actor(agent.email, f"mail:{work.item_id}")
    run = run_commands(
        env.session,
        desk=env.desk,
        ticket=ticket,
        agent=agent,
        text=work.parsed().text,
        actor=actor,
        now=env.now,
    )
    if run.errors:
        return Done(ticket, "rejected", _rejected(run.errors))
    if run.body or work.parsed().attachments:
        message = store(run.ticket, "internal" if run.internal else "public", run.body)
        record_event(
            env.session,
            ticket=run.ticket,
            actor=actor,
            type="message",
            now=env.now,
            data={
                "message_id": message.message_id,
                "role": "agent",
                "relation": "agent",
                "threaded_by": work.thread.evidence,
            },
        )
        publish(
            env.session,
            desk=env.desk,
            ticket=run.ticket,
            agent=agent,
            message=message,
            actor=actor,
            now=env.now,
        )
    return Done(run.ticket, "appended", work.thread.evidence)


def agent_new_ticket(env: StageEnv, work: Work, plan: AgentNew, store: StoreFn) -> Done:
    """`#to customer@…` opens a ticket on the customer's behalf and sends them the message."""
    agent = _agent(env, plan.agent_email)
    actor = Actor(agent.email, f"mail:{work.item_id}")
    parsed = parse_commands(work.parsed().text, env.now)
    targets = [c.args[0] for c in parsed.commands if c.name == "to"]
    if len(targets) != 1:
        errors = [BadLine("(none)", "start a ticket with exactly one #to customer@example.com")]
        tell_agent(
            env.session,
            desk=env.desk,
            agent=agent,
            errors=errors,
            subject=work.parsed().subject,
            now=env.now,
        )
        return Done(None, "rejected", _rejected(errors))
    customer = get_or_create_contact(
        env.session,
        email=targets[0],
        name="",
        free_mail=env.desk.settings.desk.free_mail_domains,
        now=env.now,
    )
    ticket = create_ticket(
        env.session,
        prefix=env.desk.settings.desk.ticket_prefix,
        requester=customer,
        subject=work.parsed().subject or "(no subject)",
        queue=plan.queue,
        actor=actor,
        now=env.now,
    )
    rest = "\n".join(c.line for c in parsed.commands if c.name != "to") + "\n\n" + parsed.text
    run = run_commands(
        env.session, desk=env.desk, ticket=ticket, agent=agent, text=rest, actor=actor, now=env.now
    )
    if run.errors:
        return Done(None, "rejected", _rejected(run.errors))
    message = store(run.ticket, "internal" if run.internal else "public", run.body)
    publish(
        env.session,
        desk=env.desk,
        ticket=run.ticket,
        agent=agent,
        message=message,
        actor=actor,
        now=env.now,
    )
    return Done(run.ticket, "created", f"started by agent {agent.email} for {customer.email}")


def hold_unproven(env: StageEnv, work: Work, plan: HoldUnproven) -> Done:
    """Nothing runs; the real agent hears that someone wrote in their name."""
    ticket = env.session.get(Ticket, plan.ticket_id) if plan.ticket_id else None
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
        )
    else:
        tell_agent(
            env.session, desk=env.desk, agent=agent, errors=errors, subject=subject, now=env.now
        )
    return Done(ticket, "held", plan.reason)
