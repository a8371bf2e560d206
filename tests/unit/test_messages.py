"""An inbound mail stored on a ticket: who wrote it on which side, the original and attachments."""

from __future__ import annotations

import pytest
from sqlmodel import select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.models import Attachment
from maildesk.pipeline.messages import store_message
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.inbox import store_raw
from maildesk.services.origin import Origin
from maildesk.services.tickets import Actor, create_ticket
from tests.conftest import START
from tests.mails import mail


@pytest.mark.parametrize(("role", "direction"), [("customer", "in"), ("agent", "out")])
def test_a_mail_is_stored_on_its_writers_side_with_the_original_and_attachments(
    app: App, role: str, direction: str
) -> None:
    raw = mail(body="Hi\n> old", attachments=[("a.txt", "text/plain", b"data")])
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="", free_mail=(), now=START
        )
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject="Printer on fire",
            queue="general",
            actor=Actor("carol@acme.test", "test"),
            now=START,
        )
        item = store_raw(session, raw=raw, origin=Origin(transport="pipe"), now=START).item_id
        env = StageEnv(session, app.desk, START)
        work = Work(item, raw, mail=parse_mail(raw))

        message = store_message(env, ticket, work, role=role, visibility="public", text="Hi")

        assert (message.role, message.direction, message.author) == (
            role,
            direction,
            "carol@acme.test",
        )
        assert (message.text, message.inbox_item_id) == ("Hi", item)
        assert "> old" in message.original
        [attachment] = session.exec(select(Attachment)).all()
        assert (attachment.message_id, attachment.filename) == (message.id, "a.txt")
