"""unproven: mail in an agent's name without proof runs nothing; it is held, the agent warned.

At most one warning per agent an hour, so a spoofer cannot mail-bomb an agent through the desk.
The warning is what the hold keeps: `on_stop` writes it after the runner's rollback.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from maildesk.commands import BadLine
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.refusals import tell_refusal
from maildesk.pipeline.work import HoldUnproven, Refusal, StageEnv, Step, Work
from maildesk.services.outbox import sent_recently

NAME = "unproven"
WARNED = "the agent was warned"
NOT_WARNED = "the agent was already warned within the hour"
SPOOF_WARNING = "spoof-warning"  # the outbox kind of these warnings, counted to rate-limit them


def _may_warn(env: StageEnv, agent_email: str) -> bool:
    since = env.now - timedelta(hours=1)
    return sent_recently(env.session, kind=SPOOF_WARNING, recipient=agent_email, since=since) == 0


def _warning(work: Work, plan: HoldUnproven) -> Refusal:
    subject = work.parsed().subject
    why = (
        "held for review: sent in your name without proof "
        "(not a reply to a notification maildesk sent you)"
    )
    errors = (BadLine(f"mail {subject!r}", why),)
    return Refusal(plan.agent_email, plan.ticket_id, subject, errors, SPOOF_WARNING, "maildesk")


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if not isinstance(plan, HoldUnproven):
        return CONTINUE, work
    if not _may_warn(env, plan.agent_email):
        return hold(f"{plan.reason}; {NOT_WARNED}"), work
    return hold(f"{plan.reason}; {WARNED}"), replace(work, refusal=_warning(work, plan))


def on_stop(work: Work, env: StageEnv) -> None:
    """What the hold keeps: the warning to the real agent."""
    if work.refusal is not None:
        tell_refusal(env, work.refusal, item_id=work.item_id)
