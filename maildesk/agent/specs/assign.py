"""`#assign <agent email or name>|me|none`: the assignee, who hears of it."""

from __future__ import annotations

from maildesk.agent import tell
from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import Agent
from maildesk.services.contacts import find_agent_by


def _resolve(ctx: Context, args: tuple[str, ...]) -> int | Refusal | None:
    who = args[0]
    if who.lower() in ("me", "none"):
        return ctx.agent.id if who.lower() == "me" else None
    target = find_agent_by(ctx.session, who)
    return target.id if target is not None else Refusal(f"no such agent: {who!r}")


def _assign(run: Run, agent_id: int | None) -> None:
    if not run.change(assignee_id=agent_id):
        return
    target = run.session.get(Agent, agent_id) if agent_id is not None else None
    tell.assigned(
        run.session, desk=run.desk, ticket=run.ticket, by=run.agent, to=target, now=run.now
    )


SPECS = (CommandSpec("assign", Arity.REST, _resolve, _assign, once=True),)
