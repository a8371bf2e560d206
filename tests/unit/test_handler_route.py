"""route handler: a new ticket's queue is chosen by the desk address the mail was sent to."""

from __future__ import annotations

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Verdict
from maildesk.pipeline.handlers import route
from maildesk.pipeline.work import StageEnv, Work
from tests.mails import mail


def routed(app: App, raw: bytes, *, envelope_to: tuple[str, ...] = ()) -> str | None:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        work = Work(1, raw, envelope_to=envelope_to, mail=parse_mail(raw))
        disposition, work = route.run(work, env)
        assert disposition.verdict is Verdict.CONTINUE
        return work.queue


@pytest.mark.parametrize(
    ("to", "queue"),
    [("support@example.com", "general"), ("Billing <billing@example.com>", "billing")],
)
def test_a_new_mail_creates_a_ticket_in_the_queue_it_was_sent_to(
    app: App, to: str, queue: str
) -> None:
    assert routed(app, mail(to=to)) == queue


def test_a_new_mail_is_routed_by_its_envelope_when_no_header_names_a_queue(app: App) -> None:
    raw = mail(to="list@lists.example")

    assert routed(app, raw, envelope_to=("billing@example.com",)) == "billing"
