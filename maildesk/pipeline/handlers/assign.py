"""assign: a customer's new ticket gets its assignee — a rule's agent or strategy, else its
queue's strategy. Nobody available: it stays unassigned, and the queue's agents are told of it
by `announce` as before; an assignee is told alone (the new-ticket notice says it is theirs).
A ticket an agent starts with `#to` is not assigned automatically: that agent decides.
"""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import Create, StageEnv, Step, Work
from maildesk.services.assignment import STRATEGIES, assign_agent, assign_by_strategy
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor, record_event

NAME = "assign"


def _to_agent(env: StageEnv, ticket: Ticket, email: str, actor: Actor) -> None:
    """A rule named an agent: they get it if they are an active agent, else nobody does."""
    agent = find_agent(env.session, email=email)
    if agent is None:
        why = {"reason": f"{email} is no active agent", "assign_to": email}
        record_event(
            env.session, ticket=ticket, actor=actor, type="unassigned", data=why, now=env.now
        )
        return
    assign_agent(env.session, desk=env.desk, ticket=ticket, agent=agent, actor=actor, now=env.now)


def run(work: Work, env: StageEnv) -> Step:
    if not isinstance(work.plan, Create) or work.ticket_id is None:
        return CONTINUE, work
    ticket = env.session.get(Ticket, work.ticket_id)
    assert ticket is not None
    if ticket.assignee_id is not None:
        return CONTINUE, work
    actor = Actor("maildesk", f"mail:{work.item_id}")
    wanted = work.assign_to
    if wanted is not None and wanted not in STRATEGIES:
        _to_agent(env, ticket, wanted, actor)
    else:
        assign_by_strategy(
            env.session, desk=env.desk, ticket=ticket, actor=actor, now=env.now, strategy=wanted
        )
    return CONTINUE, work
