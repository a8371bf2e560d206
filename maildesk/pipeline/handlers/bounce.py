"""bounce: a delivery report fails the outbox row it is about; a bounce is never answered.

One on a ticket was stored there by `store` as a system note. One about a mail outside any
ticket (a notice to an agent) ends here: done, dropped, its reason saying what it matched.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.models import MessageRole, OutboxItem
from maildesk.outbound.outbox import match_bounce
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import Append, Handled, MatchBounce, StageEnv, Step, Work

NAME = "bounce"


def _matched(plan: MatchBounce, item: OutboxItem | None) -> str:
    if item is None:
        return f"automatic mail ({plan.automatic}) matching no ticket and no mail we sent"
    if item.state == "failed":
        return f"bounce of <{item.message_id}>: outbox item {item.id} failed"
    return f"delivery report on <{item.message_id}> (outbox item {item.id}): no failure"


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if isinstance(plan, MatchBounce):
        item = match_bounce(env.session, bounce=work.bounce)
        return CONTINUE, replace(work, outcome=Handled.DROPPED, summary=_matched(plan, item))
    if isinstance(plan, Append) and plan.role == MessageRole.SYSTEM:
        match_bounce(env.session, bounce=work.bounce)
    return CONTINUE, work
