"""rate: a participant's rating — the mail stored, the score recorded, a resolved ticket closed.

The mail is stored like any customer reply (public, their own text), but it reopens nothing
and the agents get no customer-reply notice: the rater is thanked, and a rating of 1 or 2
goes to the assignee and the supervisors. A later rating replaces an earlier one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maildesk.db import after_commit
from maildesk.mail import Address
from maildesk.models import MessageRole, Ticket, TicketStatus, Visibility
from maildesk.notices import NoticeEvent, notify
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.messages import store_message
from maildesk.pipeline.work import Handled, Rate, StageEnv, Step, Work
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, record_event

NAME = "rate"


def _record(env: StageEnv, work: Work, ticket: Ticket, plan: Rate, actor: Actor) -> None:
    """The `rated` event (score, comment, the rating it replaces), then the fields; a resolved
    ticket closes, a closed one stays closed."""
    assert work.thread is not None
    data: dict[str, Any] = {"score": plan.score, "comment": plan.comment}
    data |= {"replaces": ticket.rating} if ticket.rating is not None else {}
    data |= {"by": "rating address" if plan.by_address else "reply"}
    record_event(env.session, ticket=ticket, actor=actor, type="rated", data=data, now=env.now)
    fields: dict[str, Any] = {"rating": plan.score, "rating_comment": plan.comment}
    fields["rated_at"] = env.now
    if ticket.status == TicketStatus.RESOLVED:
        fields["status"] = TicketStatus.CLOSED
    change(env.session, desk=env.desk, ticket=ticket, actor=actor, now=env.now, **fields)


def _tell(env: StageEnv, ticket: Ticket, plan: Rate, rater: Address) -> None:
    """Thanks to the rater; a poor rating alerts the assignee and the supervisors."""
    facts = {"score": plan.score, "comment": plan.comment}
    facts |= {"rater_email": rater.email, "rater_name": rater.name}
    notify(
        env.session, desk=env.desk, event=NoticeEvent.RATED, ticket=ticket, now=env.now, facts=facts
    )


def _store(env: StageEnv, work: Work, ticket: Ticket, actor: Actor) -> None:
    """The mail as the rater wrote it (public: their words are part of the conversation), and
    the `message` event saying how it found its ticket."""
    assert work.thread is not None
    text = work.parsed().new_text
    message = store_message(
        env, ticket, work, role=MessageRole.CUSTOMER, visibility=Visibility.PUBLIC, text=text
    )
    data = {
        "message_id": message.message_id,
        "role": MessageRole.CUSTOMER.value,
        "relation": work.thread.relation.value,
        "threaded_by": work.thread.evidence,
    }
    record_event(env.session, ticket=ticket, actor=actor, type="message", data=data, now=env.now)


def run(work: Work, env: StageEnv) -> Step:
    plan = work.plan
    if not isinstance(plan, Rate):
        return CONTINUE, work
    mail = work.parsed()
    ticket = env.session.get(Ticket, plan.ticket_id)
    assert ticket is not None and mail.sender is not None and work.thread is not None
    actor = Actor(mail.sender.email, f"mail:{work.item_id}")
    _store(env, work, ticket, actor)
    _record(env, work, ticket, plan, actor)
    _tell(env, ticket, plan, mail.sender)
    after_commit(env.session, lambda: env.desk.observer.rated(plan.score))
    summary = f"rated {plan.score}; {work.thread.evidence}"
    return CONTINUE, replace(work, ticket_id=ticket.id, outcome=Handled.APPENDED, summary=summary)
