"""Agent mail: commands and replies on a ticket, and tickets started with `#to`.

A refusal writes nothing here: it comes back as a `Refusal` for the caller to stop on and tell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maildesk.addresses import local_part_matches
from maildesk.commands import BadLine, Command, parse_line, split_block
from maildesk.models import Agent, Contact, Message, Ticket
from maildesk.pipeline.work import AgentNew, Append, Handled, Refusal, StageEnv, Work
from maildesk.services.agent_work import CommandRun, publish, run_commands
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, create_ticket, record_event

StoreFn = Callable[[Ticket, str, str], Message]  # (ticket, visibility, text) → stored message


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


def _refusal(work: Work, agent: Agent, ticket_id: int | None, errors: list[BadLine]) -> Refusal:
    subject = work.parsed().subject
    return Refusal(agent.email, ticket_id, subject, tuple(errors), "notify", agent.email)


def agent_on_ticket(env: StageEnv, work: Work, plan: Append, store: StoreFn) -> Applied | Refusal:
    """Run the agent's commands; store and relay what remains (unless #note).

    One bad line and nothing changes: the commands' savepoint, their error report with it,
    rolls back, and the refusal names every bad line.
    """
    ticket = env.session.get(Ticket, plan.ticket_id)
    assert ticket is not None and work.thread is not None
    agent = _agent(env, work.parsed().sender.email)  # type: ignore[union-attr]
    actor = Actor(agent.email, f"mail:{work.item_id}")
    savepoint = env.session.begin_nested()
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
        savepoint.rollback()
        return _refusal(work, agent, plan.ticket_id, list(run.errors))
    savepoint.commit()
    if run.body or work.parsed().attachments:
        _reply(env, work, run, agent, store)
    return Applied(run.ticket, Handled.APPENDED, work.thread.evidence)


def _reply(env: StageEnv, work: Work, run: CommandRun, agent: Agent, store: StoreFn) -> None:
    """Store what the agent wrote after the commands; relay it unless it is a #note."""
    assert work.thread is not None
    actor = Actor(agent.email, f"mail:{work.item_id}")
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


def _target(env: StageEnv, lines: list[str]) -> tuple[str | None, list[str], BadLine | None]:
    """The one `#to` address, the other command lines as written, or why there is none."""
    targets: list[Command] = []
    others: list[str] = []
    for line in lines:
        parsed = parse_line(line, env.now, env.desk.settings.desk.zone)
        if isinstance(parsed, Command) and parsed.name == "to":
            targets.append(parsed)
        else:
            others.append(line)  # bad lines too: run_commands names them
    if len(targets) != 1:
        return None, others, BadLine("(none)", "start a ticket with exactly one #to address")
    address = targets[0].args[0]
    if local_part_matches(address, env.desk.settings.desk_addresses()):
        return None, others, BadLine(targets[0].line, "that is one of the desk's own addresses")
    return address, others, None


def _open_ticket(env: StageEnv, work: Work, address: str, actor: Actor) -> tuple[Contact, Ticket]:
    """The customer's contact and their new ticket, in the routed queue."""
    assert work.queue is not None, "the route handler runs first"
    customer = get_or_create_contact(
        env.session,
        email=address,
        name="",
        free_mail=env.desk.settings.desk.free_mail_domains,
        now=env.now,
    )
    ticket = create_ticket(
        env.session,
        prefix=env.desk.settings.desk.ticket_prefix,
        requester=customer,
        subject=work.parsed().subject or "(no subject)",
        queue=work.queue,
        actor=actor,
        now=env.now,
    )
    return customer, ticket


def agent_new_ticket(
    env: StageEnv, work: Work, plan: AgentNew, store: StoreFn
) -> Applied | Refusal:
    """`#to customer@…` opens a ticket (in the routed queue) for the customer and sends them
    the message.

    Every other command line is checked on the new ticket; one bad line and the ticket is
    never created (its savepoint rolls back) and the refusal says why.
    """
    agent = _agent(env, plan.agent_email)
    actor = Actor(agent.email, f"mail:{work.item_id}")
    lines, text = split_block(work.parsed().text)
    address, others, problem = _target(env, lines)
    if problem is not None or address is None:
        return _refusal(work, agent, None, [problem or BadLine("(none)", "no #to address")])
    savepoint = env.session.begin_nested()
    customer, ticket = _open_ticket(env, work, address, actor)
    run = run_commands(
        env.session,
        desk=env.desk,
        ticket=ticket,
        agent=agent,
        text="\n".join(others) + "\n\n" + text,
        actor=actor,
        now=env.now,
    )
    if run.errors:
        savepoint.rollback()
        return _refusal(work, agent, None, list(run.errors))
    savepoint.commit()
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
    summary = f"started by agent {agent.email} for {customer.email}"
    return Applied(run.ticket, Handled.CREATED, summary)
