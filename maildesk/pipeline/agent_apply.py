"""Agent mail: commands and replies on a ticket, tickets started with `#to`, unproven claims."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maildesk.addresses import local_part_matches
from maildesk.commands import BadLine, Command, parse_line, split_block
from maildesk.models import Agent, Message, Ticket
from maildesk.notices import NO_THREAD, NoticeEvent, Thread, notify
from maildesk.pipeline.work import AgentNew, Append, HoldUnproven, StageEnv, Work
from maildesk.services.agent_work import publish, run_commands
from maildesk.services.contacts import find_agent, get_or_create_contact
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
        answering=_answering(work),
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


def _listed(errors: list[BadLine]) -> list[dict[str, str]]:
    return [{"line": e.line, "reason": e.reason} for e in errors]


def _refuse(env: StageEnv, work: Work, agent: Agent, errors: list[BadLine]) -> Done:
    """A mail that started no ticket: the agent hears why (a command error outside any ticket)."""
    notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.COMMAND_ERROR,
        ticket=None,
        now=env.now,
        actor_agent=agent,
        facts={"errors": _listed(errors), "subject": work.parsed().subject},
        thread=_answering(work),
    )
    return Done(None, "rejected", _rejected(errors))


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


def agent_new_ticket(env: StageEnv, work: Work, plan: AgentNew, store: StoreFn) -> Done:
    """`#to customer@…` opens a ticket on the customer's behalf and sends them the message.

    Every other command line is checked on the new ticket; one bad line and the ticket is
    never created (its savepoint rolls back) and the agent hears why.
    """
    agent = _agent(env, plan.agent_email)
    actor = Actor(agent.email, f"mail:{work.item_id}")
    lines, text = split_block(work.parsed().text)
    address, others, problem = _target(env, lines)
    if problem is not None or address is None:
        return _refuse(env, work, agent, [problem or BadLine("(none)", "no #to address")])
    savepoint = env.session.begin_nested()
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
        queue=plan.queue,
        actor=actor,
        now=env.now,
    )
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
        return _refuse(env, work, agent, list(run.errors))
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
        thread=NO_THREAD,  # the customer's first mail of this ticket answers nothing
    )
    return Done(run.ticket, "created", f"started by agent {agent.email} for {customer.email}")


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
