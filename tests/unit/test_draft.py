"""A queued draft survives its JSON row unchanged and becomes the mail under its chosen id."""

from __future__ import annotations

import email.policy
import json
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from maildesk.mail import Address
from maildesk.outbound.compose import DeskIdentity
from maildesk.outbound.draft import Draft, compose_draft
from maildesk.outbound.render import SAMPLE_CONTEXTS

DESK = DeskIdentity(name="Example Support", address="support@example.com")


def ack_draft(*, templates_dir: str | None = None) -> Draft:
    return Draft(
        template="ack",
        context=SAMPLE_CONTEXTS["ack"],
        templates_dir=templates_dir,
        desk=DESK,
        kind="ack",
        ticket_ref="TKT-42",
        recipients=(Address("carol@acme.test", "Carol Customer"),),
        date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        in_reply_to="m1@acme.test",
        references=("m0@acme.test", "m1@acme.test"),
        reply_to="support+TKT-42.abcdefghijklmnop@example.com",
        automatic=True,
    )


def sent_mail(draft: Draft, message_id: str = "chosen@example.com") -> EmailMessage:
    stored = json.loads(json.dumps(draft.to_json()))  # as the outbox row keeps it
    raw = compose_draft(stored, message_id=message_id)
    return message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_a_draft_is_the_same_draft_after_its_json_round_trip() -> None:
    draft = ack_draft()

    assert Draft.from_json(json.loads(json.dumps(draft.to_json()))) == draft


def test_the_mail_bounces_to_the_desk_and_goes_to_each_recipient() -> None:
    draft = ack_draft()

    assert draft.envelope_sender == "support+bounces@example.com"
    assert draft.recipient_addresses == ("carol@acme.test",)


def test_the_queued_draft_becomes_the_mail_under_the_id_chosen_when_it_was_queued() -> None:
    message = sent_mail(ack_draft())

    assert message["Message-ID"] == "<chosen@example.com>"
    assert message["To"] == "Carol Customer <carol@acme.test>"
    assert message["Subject"] == "Re: [TKT-42] Printer on fire"
    assert message["In-Reply-To"] == "<m1@acme.test>"
    assert message["References"] == "<m0@acme.test> <m1@acme.test>"
    assert message["Reply-To"] == "Example Support <support+TKT-42.abcdefghijklmnop@example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    body = message.get_body(("plain",))
    assert body is not None and "registered it as ticket TKT-42" in body.get_content()


def test_a_draft_renders_with_the_desks_override_templates(tmp_path: Path) -> None:
    (tmp_path / "ack.txt").write_text("Dear {{ requester_name }}, noted as {{ ref }}.\n")

    message = sent_mail(ack_draft(templates_dir=str(tmp_path)))

    body = message.get_body(("plain",))
    assert (
        body is not None and body.get_content().strip() == "Dear Carol Customer, noted as TKT-42."
    )
