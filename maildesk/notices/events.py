"""The events that send mail: each is one or more rows of the notice table (`table.py`)."""

from __future__ import annotations

from enum import StrEnum


class NoticeEvent(StrEnum):
    NEW_TICKET = "new-ticket"
    CUSTOMER_REPLY = "customer-reply"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    STATUS_CHANGED = "status-changed"
    AGENT_REPLY = "agent-reply"
    COMMAND_ERROR = "command-error"
    SPOOF_WARNING = "spoof-warning"
    SNOOZE_WOKE = "snooze-woke"
    AUTO_REPLY = "auto-reply"  # a rule's `auto_reply`: the template is the rule's
    SLA_WARNING = "sla-warning"
    SLA_BREACH = "sla-breach"
    RATING_REQUEST = "rating-request"  # an agent resolved the ticket without a reply
    RATED = "rated"  # a customer rated the ticket
    AUTO_CLOSE = "auto-close"  # resolved and unrated, or pending, past the wait: closed
    PENDING_REMINDER = "pending-reminder"


#: Events declared, with their templates written, that nothing sends yet: none is left.
TO_COME: dict[NoticeEvent, str] = {}
