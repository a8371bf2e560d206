"""Three agents told of a new ticket and of a reply: each gets the notice written for them,
word for word as the desk wrote it when each agent's mail was queued on its own."""

from __future__ import annotations

import hashlib
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from maildesk.app import open_app
from maildesk.db import unit_of_work
from maildesk.models import OutboxItem
from maildesk.notices.events import NoticeEvent
from maildesk.notices.send import notify
from maildesk.outbound.outbox import raw_of
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
from tests.unit.test_notices import open_ticket

THREE = [
    {"email": f"agent{i}@example.com", "name": f"Agent {i}", "queues": ["general"]}
    for i in (1, 2, 3)
]
REPLY = {"author_email": "carol@acme.test", "author_name": "Carol", "text": "Still burning."}


def told(raw: bytes) -> dict[str, str]:
    """What an agent reads: the headers that differ per agent and the rendered bodies."""
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    heads = {k: str(mail[k]) for k in ("From", "To", "Reply-To", "Subject", "In-Reply-To")}
    html_text = html.get_content().encode()
    return heads | {"text": plain.get_content(), "html": hashlib.sha256(html_text).hexdigest()}


def queued_notices(tmp_path: Path, database_url: str) -> list[dict[str, Any]]:
    """A new ticket, then the requester's reply, with three agents in its queue."""
    settings = make_settings(tmp_path, database_url, agents=THREE)
    app = open_app(settings, clock=FixedClock(START))
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        notify(session, desk=app.desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=START)
        event, facts = NoticeEvent.CUSTOMER_REPLY, REPLY
        notify(session, desk=app.desk, event=event, ticket=ticket, now=START, facts=facts)
    with unit_of_work(app.engine) as session:
        items = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
        found = [{"kind": i.kind, "recipients": i.recipients} | told(raw_of(i)) for i in items]
    app.engine.dispose()
    return found


FOOTER = (
    "----------------------------------------------------------------------\r\n"
    "Reply to this mail to answer the customer. Command lines at the top of\r\n"
    "your reply act on the ticket, for example:\r\n"
    "\r\n"
    "    #assign me\r\n"
    "    #status pending\r\n"
    "    #snooze 2h\r\n"
    "    #note          (keeps your reply internal: the customer sees nothing)\r\n"
)
FACTS = (
    "Ticket:     TKT-1\r\n"
    "Subject:    Printer on fire\r\n"
    "Requester:  Carol <carol@acme.test>\r\n"
    "Priority:   normal\r\n"
)
SIGNED = {1: "dedpjaw4lyh5gjcm", 2: "ngs73vuhg5cmrnmc", 3: "vs7ymnylnc5iffoy"}
NEW_HTML = {
    1: "e74ec85401a31dac9047df2ac599d3b955c9a65a8d34df2b2057a21136187e1b",
    2: "48d9e1383f8bb0425c6472a601be250695d613237d806ca7cc73c76cfec7bae7",
    3: "13550ed9a2c41b47a9987377407d753c9292b3ae347f3155dea443b1dd26e0e1",
}
REPLY_HTML = {
    1: "d55bd227ed9ea837ed83e8c94ba0188bc5b61a4b11c268fbbe5b2c9130f9108b",
    2: "d5f53a24d55b7ac016092ca96dcdc6666c9d504fd9ef98d907cd47e70171b3ba",
    3: "e940fa91ec7a2c2c8384ffb033ce335b093ba358c0949af17feb474b747c2a54",
}
ACK = {
    "kind": "ack",
    "recipients": ["carol@acme.test"],
    "From": "Example Support <support@example.com>",
    "To": "Carol <carol@acme.test>",
    "Reply-To": "Example Support <support+TKT-1.uezblr4a6mjr5lgf@example.com>",
    "Subject": "Re: [TKT-1] Printer on fire",
    "In-Reply-To": "<m1@acme.test>",
    "text": (
        "Hello Carol,\r\n"
        "\r\n"
        "thank you for writing to Example Support. We have received your request and\r\n"
        "registered it as ticket TKT-1:\r\n"
        "\r\n"
        "    Printer on fire\r\n"
        "\r\n"
        "What happens next: one of our team will read it and answer you by email.\r\n"
        "There is nothing else you need to do. If you want to add something, reply\r\n"
        "to this mail and keep [TKT-1] in the subject; it will join the same ticket.\r\n"
        "\r\n"
        "Example Support\r\n"
    ),
    "html": "25f6cd85141930b5af5e58bd8ebb066c982d1ffba0617f3f8dfb61d3954498bc",
}


def to_agent(n: int, subject: str, text: str, html: str) -> dict[str, Any]:
    """Agent n's notice: signed for them, in their name."""
    return {
        "kind": "notify",
        "recipients": [f"agent{n}@example.com"],
        "From": "Example Support <support@example.com>",
        "To": f"Agent {n} <agent{n}@example.com>",
        "Reply-To": f"Example Support <support+TKT-1.{SIGNED[n]}@example.com>",
        "Subject": subject,
        "In-Reply-To": "<m1@acme.test>",
        "text": f"Hello Agent {n},\r\n\r\n{text}",
        "html": html,
    }


def new_ticket(n: int) -> dict[str, Any]:
    text = f"a new ticket has arrived in queue general.\r\n{FACTS}\r\n\r\n\r\n{FOOTER}"
    return to_agent(n, "[TKT-1] New ticket: Printer on fire", text, NEW_HTML[n])


def reply(n: int) -> dict[str, Any]:
    head = "Carol <carol@acme.test> replied on ticket TKT-1 (now new).\r\n\r\n"
    text = f"{head}{FACTS}\r\nStill burning.\r\n\r\n{FOOTER}"
    return to_agent(n, "Re: [TKT-1] Printer on fire", text, REPLY_HTML[n])


def test_three_agents_each_get_their_own_notice_word_for_word(
    tmp_path: Path, database_url: str
) -> None:
    found = queued_notices(tmp_path, database_url)

    assert found[0] == ACK
    assert found[1:4] == [new_ticket(n) for n in (1, 2, 3)]
    assert found[4:] == [reply(n) for n in (1, 2, 3)]
