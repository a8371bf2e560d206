"""An inbound mail stored as a message of a ticket, with its attachments (never commits)."""

from __future__ import annotations

from maildesk.mail import AttachmentPart
from maildesk.models import Attachment, Message, MessageRole, Ticket, Visibility
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.tickets import add_message


def store_message(
    env: StageEnv,
    ticket: Ticket,
    work: Work,
    *,
    role: MessageRole,
    visibility: Visibility,
    text: str,
) -> Message:
    """The mail as `role` wrote it; `text` is what to show, the full original is kept too."""
    mail = work.parsed()
    sender = mail.sender or (mail.from_[0] if mail.from_ else None)
    message = add_message(
        env.session,
        ticket=ticket,
        now=env.now,
        direction="out" if role == MessageRole.AGENT else "in",  # an agent writes as the desk
        visibility=visibility,
        role=role,
        author=sender.email if sender else "",
        author_name=sender.name if sender else "",
        subject=mail.subject,
        text=text,
        original=mail.text,
        html=mail.html,
        message_id=mail.message_id,
        inbox_item_id=work.item_id,
    )
    assert message.id is not None
    _store_attachments(env, message.id, mail.attachments)
    return message


def _store_attachments(
    env: StageEnv, message_id: int, attachments: tuple[AttachmentPart, ...]
) -> None:
    """Each part's bytes in the file store (once per content), and a row naming them."""
    for part in attachments:
        sha = env.desk.store.put(part.data, part.sha256)
        env.session.add(
            Attachment(
                message_id=message_id,
                filename=part.filename,
                content_type=part.content_type,
                size=len(part.data),
                sha256=sha,
            )
        )
