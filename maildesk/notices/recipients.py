"""Who reads a notice: one small function per audience of the notice table.

Each takes the `Occasion` and returns readers; the table's rules (never the agent who caused
it, one mail per person and event) are applied by `send.notify`, not here.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from maildesk.db import Prepared
from maildesk.mail import Address
from maildesk.models import Agent, Contact, Participant, Ticket, Watcher
from maildesk.notices.occasion import Occasion, Reader
from maildesk.services.contacts import active_agents, queue_agents

SUPERVISOR = "supervisor"  # the agents' role that hears of every poor rating


def _ticket(occasion: Occasion) -> Ticket:
    assert occasion.ticket is not None, f"{occasion.event} is about a ticket"
    return occasion.ticket


def requester(occasion: Occasion) -> list[Reader]:
    """The requester alone."""
    contact = occasion.session.get(Contact, _ticket(occasion).requester_id)
    assert contact is not None
    return [Reader(Address(contact.email, contact.name))]


def customers(occasion: Occasion) -> list[Reader]:
    """The requester, then every Cc'd participant."""
    rows = occasion.session.exec(
        select(Contact, Participant.role)
        .join(Participant, col(Participant.contact_id) == col(Contact.id))
        .where(Participant.ticket_id == _ticket(occasion).id)
        .order_by(col(Participant.role).desc(), col(Contact.email))
    )
    return [Reader(Address(contact.email, contact.name)) for contact, _role in rows]


_WATCHER_IDS = Prepared(select(Watcher.agent_id).where(Watcher.ticket_id == bindparam("ticket_id")))
WATCHERS = "prefetched watchers"  # session.info key: {ticket id: agent ids} (`prefetch.py`)


def no_watchers_yet(session: Session, ticket_id: int) -> None:
    """The ticket this mail just created has no watchers (`#watch` runs on a ticket that exists,
    from another mail): its notices need not ask. Forgotten with the mail (`start_afresh`)."""
    session.info.setdefault(WATCHERS, {})[ticket_id] = set()


def watchers(occasion: Occasion) -> list[Reader]:
    """The ticket's active watchers (`#watch`)."""
    ticket = _ticket(occasion)
    if ticket.id is None:
        return []
    session = occasion.session
    ids = session.info.get(WATCHERS, {}).get(ticket.id)
    if ids is None:
        ids = set(
            _WATCHER_IDS.execute(session, {"ticket_id": ticket.id}).scalars()
        )  # flushed first
    return [Reader.of_agent(agent) for agent in active_agents(session) if agent.id in ids]


def _assignee(occasion: Occasion) -> Agent | None:
    ticket = _ticket(occasion)
    if ticket.assignee_id is None:
        return None
    agent = occasion.session.get(Agent, ticket.assignee_id)
    return agent if agent is not None and agent.active else None


def new_assignee(occasion: Occasion) -> list[Reader]:
    """The new assignee (an assignment just changed the ticket)."""
    agent = _assignee(occasion)
    return [Reader.of_agent(agent)] if agent else []


def assignee(occasion: Occasion) -> list[Reader]:
    """The ticket's assignee, told that it is theirs."""
    return new_assignee(occasion)


def handlers(occasion: Occasion) -> list[Reader]:
    """The assignee, else the queue's available agents, then the watchers.

    For news nobody at the desk caused: a new ticket, a customer reply, a snooze ending.
    """
    agent = _assignee(occasion)
    agents = [agent] if agent else queue_agents(occasion.session, queue=_ticket(occasion).queue)
    return [Reader.of_agent(a) for a in agents] + watchers(occasion)


def next_level(occasion: Occasion) -> list[Reader]:
    """The queue's available agents at the ticket's new level or above, then the watchers.

    The escalation has raised the ticket's level already.
    """
    ticket = _ticket(occasion)
    agents = queue_agents(occasion.session, queue=ticket.queue)
    return [Reader.of_agent(a) for a in agents if a.level >= ticket.level] + watchers(occasion)


def escalation(occasion: Occasion) -> list[Reader]:
    """The previous assignee, the new level's agents if nobody has it now, then the watchers.

    The new level's agents: the queue's available agents at the ticket's new level or above.
    """
    previous = occasion.facts.get("previous_assignee") or ""
    agents = [a for a in active_agents(occasion.session) if a.email == previous]
    readers = [Reader.of_agent(a) for a in agents]
    if _assignee(occasion) is None:
        readers += next_level(occasion)
    return readers + watchers(occasion)


def on_duty(occasion: Occasion) -> list[Reader]:
    """The assignee, else the queue's available agents at the ticket's level, then watchers.

    For what must be acted on now: an SLA warning or breach.
    """
    agent, ticket = _assignee(occasion), _ticket(occasion)
    if agent is not None:
        agents = [agent]
    else:
        agents = queue_agents(occasion.session, queue=ticket.queue)
        agents = [a for a in agents if a.level == ticket.level] or agents
    return [Reader.of_agent(a) for a in agents] + watchers(occasion)


def supervisors(occasion: Occasion) -> list[Reader]:
    """The active supervisors of the ticket's queue (one with no queues supervises all)."""
    queue = _ticket(occasion).queue
    return [
        Reader.of_agent(agent)
        for agent in active_agents(occasion.session)
        if agent.role == "supervisor" and (not agent.queues or queue in agent.queues)
    ]


def rater(occasion: Occasion) -> list[Reader]:
    """The customer who rated, alone."""
    email, name = occasion.facts["rater_email"], occasion.facts.get("rater_name") or ""
    return [Reader(Address(str(email), str(name)))]


def assignee_and_supervisors(occasion: Occasion) -> list[Reader]:
    """The ticket's assignee, then the supervisors of its queue."""
    return new_assignee(occasion) + supervisors(occasion)


def acting_agent(occasion: Occasion) -> list[Reader]:
    """The agent who sent the commands, or in whose name a mail came."""
    agent = occasion.actor_agent
    return [Reader.of_agent(agent)] if agent else []
