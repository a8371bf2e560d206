"""rules: the `[[rules]]` over a customer's new ticket or reply, and their decision carried out.

Can stop with hold or drop (a rule's `hold`/`drop`: the mail is rolled back and kept or
dropped with the rule's reason). Otherwise each matching rule's fields go through the one
ticket-change function in its own name (`rule:<name>`); tags, Cc'd people and notes are
added; auto-replies, the ack and the assignee ride on `Work` for `assign` and `announce`.
Every hit is a `rule` event; the whole outcome is a `rules` event, for `rules check --replay`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maildesk.models import Ticket
from maildesk.pipeline.disposition import CONTINUE, drop, hold
from maildesk.pipeline.rule_facts import decision_json, evaluate_mail, rule_event, state_of
from maildesk.pipeline.work import Notice, NoticeKind, StageEnv, Step, Work
from maildesk.rules.decision import Decision
from maildesk.rules.engine import Evaluation, apply_rule, facts_read
from maildesk.rules.levels import escalate
from maildesk.rules.spec import Rule
from maildesk.services.catalogue import find_service, service_fields
from maildesk.services.ticket_change import change
from maildesk.services.tickets import (
    Actor,
    add_cc,
    add_system_note,
    add_tags,
    event_row,
    record_events,
)

NAME = "rules"
SINGLE = ("queue", "type", "priority", "category", "level")
Row = dict[str, Any]


def _fields(env: StageEnv, own: Decision, final: Decision, *, new: bool) -> dict[str, Any]:
    """What one rule sets on the ticket: a service brings its defaults, unless a rule set
    that field explicitly (the final decision has it), then the rule's own values."""
    fields: dict[str, Any] = {}
    service = find_service(env.desk.settings, name=own.service) if own.service else None
    if service is not None:
        defaults = service_fields(service, new_ticket=new)
        fields |= {k: v for k, v in defaults.items() if getattr(final, k, None) is None}
        fields["service"] = service.name
    return fields | {k: getattr(own, k) for k in SINGLE if getattr(own, k) is not None}


def _said(own: Decision) -> dict[str, Any]:
    """What a rule set, for its `rule` event: only the actions it has."""
    return {k: v for k, v in decision_json(own).items() if v not in (None, [], ()) and k != "hits"}


def _writes_more(own: Decision) -> bool:
    """The rule writes more than its tags and its `rule` event (fields, a level, Cc, notes)."""
    fields = (*SINGLE, "service")
    return any(getattr(own, k) is not None for k in fields) or bool(own.cc or own.notes)


def _carry_out_rule(
    env: StageEnv, work: Work, ticket: Ticket, rule: Rule, final: Decision, events: list[Row]
) -> None:
    """The rule's fields, level, Cc and notes written; its `rule` event added to `events`,
    which are written first when the rule writes anything else (events keep their order)."""
    own = apply_rule(rule, Decision())
    actor = Actor(f"rule:{rule.name}", f"mail:{work.item_id}")
    if _writes_more(own):
        record_events(env.session, ticket=ticket, rows=events, now=env.now)
        events.clear()
        _write(env, work, ticket, rule, own, final)
    data = {"rule": rule.name, "set": _said(own)}
    events.append(event_row(ticket, actor=actor, type="rule", data=data, now=env.now))


def _write(
    env: StageEnv, work: Work, ticket: Ticket, rule: Rule, own: Decision, final: Decision
) -> None:
    actor = Actor(f"rule:{rule.name}", f"mail:{work.item_id}")
    new = rule_event(work) == "new"
    fields = _fields(env, own, final, new=new)
    level = fields.pop("level", None) if not new else None
    if fields:
        change(env.session, desk=env.desk, ticket=ticket, actor=actor, now=env.now, **fields)
    if level is not None and level != ticket.level:  # on a follow-up: reassigned at that level
        reason = f"rule {rule.name}"
        escalate(
            env.session,
            desk=env.desk,
            ticket=ticket,
            actor=actor,
            now=env.now,
            by=None,
            reason=reason,
            to_level=level,
        )
    for email in own.cc:
        add_cc(
            env.session,
            ticket=ticket,
            email=email,
            free_mail=env.desk.settings.desk.free_mail_domains,
            now=env.now,
        )
    for note in own.notes:
        add_system_note(
            env.session, ticket=ticket, now=env.now, subject=f"Rule {rule.name}", text=note
        )


def _record(env: StageEnv, work: Work, ticket: Ticket, evaluation: Evaluation) -> Row:
    data = {
        "item": work.item_id,
        "event": rule_event(work),
        "decision": decision_json(evaluation.decision),
        "stopped_by": evaluation.stopped_by,
    }
    actor = Actor("maildesk", f"mail:{work.item_id}")
    return event_row(ticket, actor=actor, type="rules", data=data, now=env.now)


def _carry_out(env: StageEnv, work: Work, ticket: Ticket, evaluation: Evaluation) -> None:
    """Each hit in order, the tags they add (one look-up, one write), then the events not
    written yet and the `rules` event, in one statement."""
    decision = evaluation.decision
    rules = {rule.name: rule for rule in env.desk.rules}
    events: list[Row] = []
    for name in decision.hits:
        _carry_out_rule(env, work, ticket, rules[name], decision, events)
    add_tags(env.session, ticket=ticket, tags=decision.tags)
    events.append(_record(env, work, ticket, evaluation))
    record_events(env.session, ticket=ticket, rows=events, now=env.now)


def run(work: Work, env: StageEnv) -> Step:
    event = rule_event(work)
    if event is None or work.ticket_id is None or not env.desk.rules:
        return CONTINUE, work
    ticket = env.session.get(Ticket, work.ticket_id)
    assert ticket is not None
    state = state_of(env.session, ticket, tags="tags" in facts_read(env.desk.rules))
    evaluation = evaluate_mail(work, env, event, state)
    decision = evaluation.decision
    work = replace(work, rule_hits=decision.hits)
    by = f" (by {', '.join(decision.hits)})"
    if decision.hold is not None:  # a hold wins over a drop: an operator can still look
        return hold(decision.hold + by), work
    if decision.drop is not None:
        return drop(decision.drop + by), work
    _carry_out(env, work, ticket, evaluation)
    acknowledge = work.acknowledge and decision.acknowledge is not False
    replies = tuple(Notice(NoticeKind.AUTO_REPLY, "", template=t) for t in decision.auto_reply)
    notices = (*work.notices, *replies)  # sent by `announce`, after the ack
    return CONTINUE, replace(
        work, acknowledge=acknowledge, assign_to=decision.assign, notices=notices
    )
