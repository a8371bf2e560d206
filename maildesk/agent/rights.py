"""Who may act on which ticket with commands."""

from __future__ import annotations

from maildesk.models import Agent, Ticket


def may_act(agent: Agent, ticket: Ticket) -> bool:
    """Supervisors may do everything; an agent acts on tickets of their own queues."""
    return agent.role == "supervisor" or ticket.queue in agent.queues
