"""The whole loop over real wires: `maildesk ingest`, `maildesk tick` to a real SMTP relay.

A customer writes; the acknowledgement leaves through an aiosmtpd relay on loopback, which
records envelope and message; the customer answers that mail in each of the ways a mail
client might, and every answer lands on the ticket.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from maildesk.addresses import parse_signed, verify
from tests.integration.test_cli import Run, maildesk
from tests.mails import mail

pytestmark = pytest.mark.integration

SECRET = "roundtrip-secret"


@dataclass
class RecordingRelay:
    """An aiosmtpd handler keeping each envelope and the message it carried."""

    mails: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.mails.append((envelope.mail_from or "", list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"

    def to(self, address: str) -> list[tuple[str, EmailMessage]]:
        return [(sender, m) for sender, rcpts, m in self.mails if address in rcpts]


class PortZeroController(Controller):
    """aiosmtpd's Controller on a port the kernel picks: `port` is the bound one once started.

    aiosmtpd 1.4 connects to `port` to check the server started, so port=0 fails there; this
    reads the bound port first (aio-libs/aiosmtpd#388; PR #381 would do the same upstream).
    """

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def relay() -> Iterator[tuple[RecordingRelay, int]]:
    handler = RecordingRelay()
    controller = PortZeroController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def config(tmp_path: Path, relay: tuple[RecordingRelay, int], database_url: str) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(f"""
[desk]
name = "Example Support"
address = "support@example.com"
secret = "{SECRET}"

[database]
url = "{database_url}"

[[agents]]
email = "alice@example.com"
name = "Alice"
queues = ["general"]

[outbound]
transport = "smtp"
host = "127.0.0.1"
port = {relay[1]}
timeout_seconds = 10
""")
    return path


def ingest(config: Path, tmp_path: Path, raw: bytes, *to: str) -> dict[str, object]:
    source = tmp_path / "incoming.eml"
    source.write_bytes(raw)
    run: Run = maildesk("--config", config, "ingest", "--json", *(f"--to={a}" for a in to), source)
    assert run.code == 0, run.err
    [outcome] = run.json_lines()
    return outcome


def test_the_ack_goes_out_through_the_relay_and_every_kind_of_answer_lands_on_the_ticket(
    config: Path, tmp_path: Path, relay: tuple[RecordingRelay, int]
) -> None:
    recorder, _ = relay
    created = ingest(config, tmp_path, mail(message_id="m1@acme.test"), "support@example.com")
    assert created["outcome"] == "created"
    ref = str(created["ticket"])

    tick = maildesk("--config", config, "tick")
    assert tick.code == 0, tick.err

    [(envelope_sender, ack)] = recorder.to("carol@acme.test")
    assert envelope_sender == "support+bounces@example.com"
    assert f"[{ref}]" in str(ack["Subject"])
    assert str(ack["In-Reply-To"]) == "<m1@acme.test>"
    assert str(ack["Auto-Submitted"]) == "auto-replied"
    assert str(ack["Message-ID"]).endswith("@example.com>")
    reply_to = getaddresses([str(ack["Reply-To"])])[0][1]
    signed = parse_signed(reply_to)
    assert signed is not None and verify(signed, secrets_=(SECRET,), role="customer")
    assert len(recorder.to("alice@example.com")) == 1  # the queue's agent heard of it
    ack_id = str(ack["Message-ID"]).strip("<>")

    answers = {
        f"signed address {reply_to.lower()}": ingest(
            config, tmp_path, mail(to=reply_to, subject="more", message_id="r1@acme.test"), reply_to
        ),
        f"In-Reply-To <{ack_id}>": ingest(
            config,
            tmp_path,
            mail(subject="more", message_id="r2@acme.test", in_reply_to=ack_id),
            "support@example.com",
        ),
        f"subject tag [{ref}]": ingest(
            config,
            tmp_path,
            mail(subject=f"Re: [{ref}] more", message_id="r3@acme.test"),
            "support@example.com",
        ),
    }
    for evidence, outcome in answers.items():
        assert (outcome["outcome"], outcome["ticket"], outcome["reason"]) == (
            "appended",
            ref,
            evidence,
        )
