"""unproven: mail in an agent's name without proof runs nothing; it is held, the agent warned.

At most one warning per agent an hour (the notice table's gate), so a spoofer cannot
mail-bomb an agent through the desk. The warning and the ticket's `held-unproven` event are
what the hold keeps: `on_stop` writes them after the runner's rollback.
"""

from __future__ import annotations

from maildesk.models import Agent, Ticket
from maildesk.notices import NoticeEvent, notify
from maildesk.notices.gates import warned_within_the_hour
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.work import HoldUnproven, StageEnv, Step, Work
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor, record_event

NAME = "unproven"
WARNED = "the agent was warned"
NOT_WARNED = "the agent was already warned within the hour"


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if not isinstance(plan, HoldUnproven):
        return CONTINUE, work
    said = (
        NOT_WARNED
        if warned_within_the_hour(env.session, agent_email=plan.agent_email, now=env.now)
        else WARNED
    )
    return hold(f"{plan.reason}; {said}"), work


def on_stop(work: Work, env: StageEnv) -> None:
    """What the hold keeps: the ticket's trail says so, and the real agent hears of it."""
    plan = work.plan
    if not isinstance(plan, HoldUnproven):
        return
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
    notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.SPOOF_WARNING,
        ticket=ticket,
        now=env.now,
        actor_agent=_agent(env, plan.agent_email),
        facts=facts | ({} if ticket else {"subject": subject}),
    )


def _agent(env: StageEnv, email: str) -> Agent:
    agent = find_agent(env.session, email=email)
    assert agent is not None, "only a configured agent's address is held as unproven"
    return agent
