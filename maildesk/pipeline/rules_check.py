"""`maildesk rules check`: what the current rules would do to a mail, and `--replay`: what
they would do differently to stored mail than they did. Reads only; the caller's session is
a read-only unit of work, and no handler that writes runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from maildesk.desk import Desk
from maildesk.models import Event, InboxItem, Ticket
from maildesk.outbound.outbox import auto_reply_allowed
from maildesk.pipeline.handlers import route
from maildesk.pipeline.rule_facts import (
    TicketState,
    decision_json,
    evaluate_mail,
    rule_event,
    state_of,
    would_be_new,
)
from maildesk.pipeline.runner import run_stages
from maildesk.pipeline.table import STAGES
from maildesk.pipeline.work import Append, StageEnv, Work
from maildesk.rules.decision import Decision
from maildesk.rules.engine import Evaluation
from maildesk.services.catalogue import find_service

RESULT_KEYS = ("service", "type", "queue", "priority", "category", "assignee", "tags", "ack")


def _prepared(work: Work, env: StageEnv) -> tuple[str | None, Work]:
    """The stages and the route, as ingest runs them; a stop's reason, or None."""
    stop, work = run_stages(STAGES, work, env)
    if stop is not None:
        return stop.reason, work
    _, work = route.run(work, env)
    return None, work


def _state(env: StageEnv, work: Work) -> tuple[TicketState, Ticket | None]:
    if isinstance(work.plan, Append):
        ticket = env.session.get(Ticket, work.plan.ticket_id)
        assert ticket is not None
        return state_of(env.session, ticket), ticket
    return would_be_new(env.session, env.desk.settings, work), None


def _ack(env: StageEnv, work: Work, queue: str, decision: Decision, new: bool) -> bool:
    settings = env.desk.settings
    queues = {q.name: q for q in settings.effective_queues()}
    sender = work.parsed().sender
    if not new or decision.acknowledge is False or sender is None:
        return False
    if queue in queues and not queues[queue].acknowledge:
        return False
    limit = settings.outbound.ack_limit
    return auto_reply_allowed(
        env.session, recipient=sender.email, now=env.now, limit_per_hour=limit
    )


def _outcome(
    env: StageEnv, work: Work, state: TicketState, decision: Decision, new: bool
) -> dict[str, Any]:
    """The ticket's fields once the decision is carried out, as the handler would do it."""
    service = find_service(env.desk.settings, name=decision.service) if decision.service else None
    base: dict[str, Any] = {"queue": state.queue, "priority": state.priority, "type": None}
    if service is not None:
        base |= {"queue": service.queue, "type": service.type}
        base |= {"priority": service.priority} if new else {}
    queue = decision.queue or base["queue"]
    return {
        "service": service.name if service else state.service,
        "type": decision.type or base["type"],
        "queue": queue,
        "priority": decision.priority or base["priority"],
        "category": decision.category or state.category,
        "assignee": decision.assign,
        "tags": sorted(state.tags | set(decision.tags)),
        "ack": _ack(env, work, queue, decision, new),
    }


def _explained(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "matched": r.matched, "failed": r.failed, "for_event": r.applies_to_event}
        for r in evaluation.results
    ]


def check_mail(session: Session, desk: Desk, work: Work) -> dict[str, Any]:
    """Every rule matched or not (and the first failing condition), and the outcome."""
    env = StageEnv(session=session, desk=desk, now=desk.clock.now())
    stopped, work = _prepared(work, env)
    found: dict[str, Any] = {"stopped": stopped, "event": None, "ticket": None, "rules": []}
    found |= dict.fromkeys(RESULT_KEYS) | {"decision": None}
    event = rule_event(work) if stopped is None else None
    if event is None:
        return found | {"stopped": stopped or "the rules do not run on this mail"}
    state, ticket = _state(env, work)
    evaluation = evaluate_mail(work, env, event, state)
    decision = evaluation.decision
    found |= {"event": event, "ticket": ticket.ref if ticket else None}
    found |= {"rules": _explained(evaluation), "decision": decision_json(decision)}
    found |= {"hold": decision.hold, "drop": decision.drop}
    return found | _outcome(env, work, state, decision, new=event == "new")


def work_of(raw: bytes, *, envelope_to: tuple[str, ...] = (), mailbox: str | None = None) -> Work:
    return Work(item_id=0, raw=raw, envelope_to=envelope_to, mailbox=mailbox)


def _recorded(session: Session, item: InboxItem) -> dict[str, Any] | None:
    query = select(Event).where(Event.type == "rules", Event.source == f"mail:{item.id}")
    event = session.exec(query).first()
    return None if event is None else dict(event.data.get("decision") or {})


def replay(session: Session, desk: Desk, *, last: int) -> list[dict[str, Any]]:
    """The current rules over the last `last` stored mails that became tickets or messages."""
    query = (
        select(InboxItem)
        .where(InboxItem.state == "processed", col(InboxItem.ticket_id).is_not(None))
        .order_by(col(InboxItem.id).desc())
        .limit(last)
    )
    rows = []
    for item in session.exec(query).all():
        work = replace(work_of(item.raw, envelope_to=tuple(item.envelope_to)), item_id=item.id or 0)
        now = check_mail(session, desk, replace(work, mailbox=item.imap_mailbox))
        rows.append(_compare(session, item, now))
    return rows


def _compare(session: Session, item: InboxItem, now: dict[str, Any]) -> dict[str, Any]:
    ticket = session.get(Ticket, item.ticket_id)
    then = _recorded(session, item)
    row: dict[str, Any] = {"item": item.id, "ticket": ticket.ref if ticket else None}
    if then is None:
        return row | {"status": "no recorded outcome", "differences": {}}
    current = now["decision"] or {}
    keys = sorted(set(then) | set(current))
    diff = {
        k: {"then": then.get(k), "now": current.get(k)}
        for k in keys
        if then.get(k) != current.get(k)
    }
    return row | {"status": "differs" if diff else "same", "differences": diff}
