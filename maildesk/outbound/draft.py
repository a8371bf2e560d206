"""Outbound mail queued as a template and its context, rendered and composed when it is sent.

Ingest only decides who gets what; the sender pays for rendering and MIME composition.
The Message-ID is chosen when queueing, so a reply to the mail threads before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from maildesk.mail import Address
from maildesk.outbound.compose import DeskIdentity, OutboundSpec, bounce_address, compose
from maildesk.outbound.render import Renderer


@dataclass(frozen=True)
class Draft:
    """An OutboundSpec whose parts are still a template name and a JSON-able context."""

    template: str
    context: dict[str, Any]
    templates_dir: str | None  # the desk's override directory; None: built-ins only
    desk: DeskIdentity
    kind: str
    ticket_ref: str | None
    recipients: tuple[Address, ...]
    date: datetime
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    automatic: bool = False

    @property
    def envelope_sender(self) -> str:
        return bounce_address(self.desk.address)

    @property
    def recipient_addresses(self) -> tuple[str, ...]:
        return tuple(r.email for r in self.recipients)

    def to_json(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "context": self.context,
            "templates_dir": self.templates_dir,
            "desk": [self.desk.name, self.desk.address],
            "kind": self.kind,
            "ticket_ref": self.ticket_ref,
            "recipients": [[r.email, r.name] for r in self.recipients],
            "date": self.date.isoformat(),
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "reply_to": self.reply_to,
            "automatic": self.automatic,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        name, address = data["desk"]
        return cls(
            template=data["template"],
            context=data["context"],
            templates_dir=data["templates_dir"],
            desk=DeskIdentity(name=name, address=address),
            kind=data["kind"],
            ticket_ref=data["ticket_ref"],
            recipients=tuple(Address(email, name) for email, name in data["recipients"]),
            date=datetime.fromisoformat(data["date"]),
            in_reply_to=data["in_reply_to"],
            references=tuple(data["references"]),
            reply_to=data["reply_to"],
            automatic=data["automatic"],
        )

    def spec(self, renderer: Renderer) -> OutboundSpec:
        """Render the template: the spec `compose` turns into bytes."""
        return OutboundSpec(
            desk=self.desk,
            kind=self.kind,
            ticket_ref=self.ticket_ref,
            recipients=self.recipients,
            rendered=renderer.render(self.template, self.context),
            date=self.date,
            in_reply_to=self.in_reply_to,
            references=self.references,
            reply_to=self.reply_to,
            automatic=self.automatic,
        )


@lru_cache(maxsize=8)
def renderer_for(templates_dir: str | None) -> Renderer:
    """One sandboxed environment per template directory, kept: Jinja caches compiled templates."""
    return Renderer(Path(templates_dir) if templates_dir is not None else None)


def compose_draft(data: dict[str, Any], *, message_id: str) -> bytes:
    """The bytes of a queued draft (`OutboxItem.spec`) under its pre-chosen Message-ID."""
    draft = Draft.from_json(data)
    return compose(draft.spec(renderer_for(draft.templates_dir)), message_id=message_id)[1]
