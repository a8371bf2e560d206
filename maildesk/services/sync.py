"""Mirror configured agents and queues into the database, so lookups and JSON use one source."""

from __future__ import annotations

from sqlmodel import Session, select

from maildesk.config import Settings
from maildesk.models import Agent, Queue
from maildesk.services.contacts import forget_active_agents


def sync_config(session: Session, *, settings: Settings) -> None:
    """Create or update the configured agents and queues; agents added by CLI are left alone.

    Availability (`away`) is operational state set by `maildesk agent set`: never reset here.
    """
    for queue in settings.effective_queues():
        row = session.exec(select(Queue).where(Queue.name == queue.name)).first()
        row = row or Queue(name=queue.name)
        row.addresses = list(queue.addresses)
        session.add(row)
    for agent in settings.agents:
        email = agent.email.lower()
        row_agent = session.exec(select(Agent).where(Agent.email == email)).first()
        row_agent = row_agent or Agent(email=email)
        row_agent.name = agent.name or row_agent.name
        row_agent.role = agent.role
        row_agent.level = agent.level
        row_agent.queues = list(agent.queues)
        row_agent.calendar = agent.calendar
        row_agent.active = True
        session.add(row_agent)
    forget_active_agents(session)
