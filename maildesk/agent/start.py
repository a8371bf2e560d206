"""`#to customer@…` on an agent's mail to the desk: a ticket for the customer, started by them.

Every other line is checked on the new ticket; one bad line and the ticket is never made
(its savepoint rolls back) and the agent hears why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from maildesk.addresses import local_part_matches
from maildesk.agent import tell
from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.run import Said, StoreFn, Via, run_agent_message
from maildesk.desk import Desk
from maildesk.models import Agent, Contact, Ticket
from maildesk.notices import NO_THREAD, Thread
from maildesk.services.blacklist import blacklist_entry
from maildesk.services.categories import contact_category
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.ticket_change import begin
from maildesk.services.tickets import Actor, create_ticket


@dataclass(frozen=True)
class Started:
    ticket: Ticket | None  # None: refused, and the agent was told why
    errors: tuple[BadLine, ...]
    customer: Contact | None = None


def _target(session: Session, desk: Desk, said: Said, now: datetime) -> tuple[str, Said] | BadLine:
    """The one `#to` address and what else was said, or why there is no such address."""
    targets: list[Command] = []
    others: list[str] = []
    for line in said.lines:
        parsed = parse_line(line, now, desk.settings.desk.zone)
        if isinstance(parsed, Command) and parsed.name == "to":
            targets.append(parsed)
        else:
            others.append(line)  # bad lines too: running them names them
    if len(targets) != 1:
        return BadLine("(none)", "start a ticket with exactly one #to address")
    address = targets[0].args[0]
    if local_part_matches(address, desk.settings.desk_addresses()):
        return BadLine(targets[0].line, "that is one of the desk's own addresses")
    entry = blacklist_entry(session, config=desk.settings.blacklist, address=address)
    if entry is not None:
        return BadLine(targets[0].line, f"{address} is blacklisted ({entry})")
    return address, Said(tuple(others), said.text)


def start_ticket(
    session: Session,
    *,
    desk: Desk,
    agent: Agent,
    said: Said,
    subject: str,
    queue: str,
    store: StoreFn,
    actor: Actor,
    now: datetime,
    answering: Thread | None = None,
    mail_errors: bool = True,
) -> Started:
    """Open the ticket, run the other lines on it, store and send the agent's message.

    `subject` is the mail's; a refusal mail names it as it was (perhaps empty). The message
    is stored even without text; it answers nothing (the customer's first mail of the ticket).
    A refusal mail answers `answering`, the agent's own mail; with `mail_errors` False the
    caller tells the agent itself (the pipeline does, after rolling the mail back).
    """
    target = _target(session, desk, said, now)
    if isinstance(target, BadLine):
        return _refuse(session, desk, agent, (target,), subject, now, answering, mail_errors)
    address, rest = target
    savepoint = session.begin_nested()
    customer, ticket = _open(session, desk, address, subject, queue, actor, now)
    via = Via(store, keep_empty=True, mail_errors=False, reply_thread=NO_THREAD)
    result = run_agent_message(
        session, desk=desk, ticket=ticket, agent=agent, said=rest, via=via, actor=actor, now=now
    )
    if result.errors:
        savepoint.rollback()
        return _refuse(session, desk, agent, result.errors, subject, now, answering, mail_errors)
    savepoint.commit()
    return Started(result.ticket, (), customer)


def _open(
    session: Session,
    desk: Desk,
    address: str,
    subject: str,
    queue: str,
    actor: Actor,
    now: datetime,
) -> tuple[Contact, Ticket]:
    """The customer's contact and their new ticket, in the agent's name."""
    customer = get_or_create_contact(
        session, email=address, name="", free_mail=desk.settings.desk.free_mail_domains, now=now
    )
    ticket = create_ticket(
        session,
        prefix=desk.settings.desk.ticket_prefix,
        requester=customer,
        subject=subject or "(no subject)",
        queue=queue,
        actor=actor,
        now=now,
        category=contact_category(session, settings=desk.settings, contact=customer),
    )
    begin(session, desk=desk, ticket=ticket, now=now)
    return customer, ticket


def _refuse(
    session: Session,
    desk: Desk,
    agent: Agent,
    errors: tuple[BadLine, ...],
    subject: str,
    now: datetime,
    answering: Thread | None,
    mail_errors: bool,
) -> Started:
    if not mail_errors:
        return Started(None, errors)
    tell.errors_without_ticket(
        session,
        desk=desk,
        agent=agent,
        errors=errors,
        subject=subject,
        now=now,
        answering=answering,
    )
    return Started(None, errors)
