"""agent-commands: a proven agent's mail runs its command lines, on a ticket or with `#to`.

All lines or none: a refused mail stops with a reject, the runner rolls the mail back, and
`on_stop` then tells the agent which lines failed (that mail and its event are kept).
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.agent.lines import BadLine
from maildesk.agent.run import StoreFn
from maildesk.models import Message, MessageRole, Ticket, Visibility
from maildesk.pipeline.agent_apply import agent_new_ticket, agent_on_ticket
from maildesk.pipeline.disposition import CONTINUE, reject
from maildesk.pipeline.messages import store_message
from maildesk.pipeline.refusals import tell_refusal
from maildesk.pipeline.work import AgentNew, Append, Refusal, StageEnv, Step, Work

NAME = "agent-commands"


def _store(env: StageEnv, work: Work) -> StoreFn:
    def store(ticket: Ticket, visibility: Visibility, text: str) -> Message:
        role = MessageRole.AGENT
        return store_message(env, ticket, work, role=role, visibility=visibility, text=text)

    return store


def rejected(errors: tuple[BadLine, ...]) -> str:
    return "agent commands rejected: " + "; ".join(f"{e.line}: {e.reason}" for e in errors)


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if isinstance(plan, AgentNew):
        result = agent_new_ticket(env, work, plan, _store(env, work))
    elif isinstance(plan, Append) and plan.role == MessageRole.AGENT and plan.run_commands:
        result = agent_on_ticket(env, work, plan, _store(env, work))
    else:
        return CONTINUE, work
    if isinstance(result, Refusal):
        return reject(rejected(result.errors)), replace(work, refusal=result)
    return CONTINUE, replace(
        work, ticket_id=result.ticket.id, outcome=result.outcome, summary=result.summary
    )


def on_stop(work: Work, env: StageEnv) -> None:
    """What the reject keeps: the command-error mail to the agent (and the ticket's event)."""
    if work.refusal is not None:
        tell_refusal(env, work.refusal, item_id=work.item_id)
