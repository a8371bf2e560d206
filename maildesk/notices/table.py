"""The notice table: who gets which mail. One row per event and audience.

A row names its readers (a function in `recipients`), the template, the outbox kind, whether
the mail is automatic, and its rules: a gate that may withhold it, and whether the agent who
caused the event is spared. Agents get one mail each, with a Reply-To signed for them;
customers get one mail together, with the ticket's customer Reply-To.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from maildesk.notices import contexts, gates, recipients
from maildesk.notices.events import NoticeEvent
from maildesk.notices.gates import Gate
from maildesk.notices.occasion import Occasion, Reader


class Audience(StrEnum):
    AGENTS = "agents"  # one mail per agent, Reply-To signed as that agent
    CUSTOMERS = "customers"  # one mail to all of them, the customer's signed Reply-To


@dataclass(frozen=True)
class Row:
    """One event's mail to one audience."""

    event: NoticeEvent
    audience: Audience
    readers: Callable[[Occasion], list[Reader]]
    template: str
    template_key: str | None = None  # take the template from this fact (a rule's choice)
    kind: str = "notify"  # the outbox row's kind
    automatic: bool = True  # Auto-Submitted: auto-replied, X-Loop; never answered automatically
    gate: Gate | None = None  # may withhold the row, saying why
    spare_actor: bool = True  # never to the agent who caused the event
    context: Callable[[Occasion], dict[str, Any]] | None = None  # computed template keys
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


E, A, C = NoticeEvent, Audience.AGENTS, Audience.CUSTOMERS
RULE_TEMPLATE = "(the rule's auto_reply)"  # the template a rule names, shown in the table
TO_YOU, TO_OTHERS = MappingProxyType({"to_you": True}), MappingProxyType({"to_you": False})

NOTICES: tuple[Row, ...] = (
    Row(E.NEW_TICKET, C, recipients.requester, "ack", kind="ack", gate=gates.may_acknowledge),
    Row(E.NEW_TICKET, A, recipients.assignee, "notify_new", extra=TO_YOU),
    Row(E.NEW_TICKET, A, recipients.handlers, "notify_new", extra=TO_OTHERS),
    Row(E.CUSTOMER_REPLY, A, recipients.handlers, "notify_reply", context=contexts.customer_author),
    Row(E.ASSIGNED, A, recipients.new_assignee, "notify_assigned", extra=TO_YOU),
    Row(E.ASSIGNED, A, recipients.watchers, "notify_assigned", extra=TO_OTHERS),
    Row(E.ESCALATED, A, recipients.assignee, "escalated", extra=TO_YOU),
    Row(E.ESCALATED, A, recipients.escalation, "escalated", extra=TO_OTHERS),
    Row(
        E.STATUS_CHANGED, C, recipients.customers, "status_changed", kind="status", automatic=False
    ),
    Row(
        E.RATING_REQUEST,
        C,
        recipients.customers,
        "rating_request",
        kind="rating",
        automatic=False,
        context=contexts.rating_links,
    ),
    Row(
        E.AGENT_REPLY,
        C,
        recipients.customers,
        "agent_reply",
        kind="agent-reply",
        automatic=False,
        context=contexts.agent_reply,
    ),
    Row(E.AGENT_REPLY, A, recipients.watchers, "notify_reply", context=contexts.agent_author),
    Row(E.COMMAND_ERROR, A, recipients.acting_agent, "command_error", spare_actor=False),
    Row(
        E.SPOOF_WARNING,
        A,
        recipients.acting_agent,
        "spoof_warning",
        kind=gates.SPOOF_WARNING_KIND,
        gate=gates.first_warning_this_hour,
        spare_actor=False,
    ),
    Row(E.SNOOZE_WOKE, A, recipients.handlers, "snooze_wakeup"),
    Row(E.SLA_WARNING, A, recipients.on_duty, "sla_warning", kind="sla"),
    Row(E.SLA_BREACH, A, recipients.on_duty, "sla_breach", kind="sla"),
    Row(E.SLA_BREACH, A, recipients.supervisors, "sla_breach", kind="sla"),
    Row(
        E.RATED,
        C,
        recipients.rater,
        "rating_thanks",
        kind="rating-thanks",
        gate=gates.may_auto_reply,
        context=contexts.rater,
    ),
    Row(
        E.RATED,
        A,
        recipients.assignee_and_supervisors,
        "rating_alert",
        gate=gates.low_rating,
        context=contexts.rater,
    ),
    Row(E.PENDING_REMINDER, C, recipients.requester, "pending_reminder", kind="pending-reminder"),
    Row(E.AUTO_CLOSE, C, recipients.requester, "auto_close", kind="auto-close"),
    Row(
        E.AUTO_REPLY,
        C,
        recipients.requester,
        RULE_TEMPLATE,
        template_key="auto_reply_template",
        kind="auto-reply",
        gate=gates.may_auto_reply,
    ),
)


def rows_for(event: NoticeEvent) -> list[Row]:
    """The event's rows in table order: an agent reached by an earlier row is not mailed again."""
    return [row for row in NOTICES if row.event is event]
