"""Delivery status notifications (RFC 3464): which mail of ours came back, and why."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from maildesk.addresses import message_ids


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification (RFC 3464) says about a mail we sent."""

    message_ids: tuple[str, ...]  # the returned mail's Message-ID first, then thread ids
    failed: bool  # False for "delayed", "relayed", "delivered" reports
    diagnostic: str


def _field(block: Message, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _recipient_line(block: Message) -> str:
    recipient = _field(block, "Final-Recipient").rpartition(";")[2].strip()
    said = " ".join(p for p in (_field(block, "Status"), _field(block, "Diagnostic-Code")) if p)
    return f"{recipient}: {said}" if recipient else said


def _report(part: Message) -> tuple[bool, str]:
    """(failed?, diagnostic) from a message/delivery-status part's per-recipient blocks."""
    payload = part.get_payload()
    blocks = [b for b in payload[1:] if isinstance(b, Message)] if isinstance(payload, list) else []
    actions = [_field(b, "Action").lower() for b in blocks]
    statuses = [_field(b, "Status") for b in blocks]
    failed = "failed" in actions or (not any(actions) and any(s.startswith("5") for s in statuses))
    return failed, "; ".join(_recipient_line(b) for b in blocks) or "delivery status notification"


def _returned_ids(part: Message) -> tuple[str, ...]:
    """The Message-ID of the returned mail (message/rfc822) or headers (text/rfc822-headers)."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        first = payload[0] if isinstance(payload, list) and payload else None
        returned = first if isinstance(first, Message) else None
    else:
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
        returned = HeaderParser().parsestr(text)
    return message_ids(str(returned.get("Message-ID", ""))) if returned is not None else ()


def parse_bounce(raw: bytes) -> Bounce | None:
    """The DSN in `raw`, or None when `raw` is not a delivery-status multipart/report."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    failed, diagnostic = True, "delivery status notification"
    returned: tuple[str, ...] = ()
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            failed, diagnostic = _report(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and not returned:
            returned = _returned_ids(part)
    thread = message_ids(str(message.get("In-Reply-To", ""))) + message_ids(
        " ".join(str(v) for v in message.get_all("References") or [])
    )
    return Bounce(message_ids=returned + thread, failed=failed, diagnostic=diagnostic)
