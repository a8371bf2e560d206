"""loop stage: a mail that went round too many relays is held, not processed again."""

from __future__ import annotations

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.stages import loop
from maildesk.pipeline.work import StageEnv, Work
from tests.mails import mail


def relayed(hops: int) -> bytes:
    received = b"".join(
        b"Received: from mx%d.example.org by mx%d.example.org; Mon, 23 Nov 2026 09:00:00 +0000\r\n"
        % (hop, hop + 1)
        for hop in range(hops)
    )
    return received + mail()


def run_loop(app: App, raw: bytes) -> Disposition:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        disposition, _ = loop.run(Work(item_id=1, raw=raw, mail=parse_mail(raw)), env)
        return disposition


def test_thirty_received_headers_go_on(app: App) -> None:
    assert app.settings.desk.max_received_hops == 30
    assert run_loop(app, relayed(30)).verdict is Verdict.CONTINUE


def test_thirty_one_received_headers_are_held_as_a_loop(app: App) -> None:
    disposition = run_loop(app, relayed(31))

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "mail loop: 31 Received headers, limit 30"


def test_a_mail_without_received_headers_goes_on(app: App) -> None:
    assert run_loop(app, mail()).verdict is Verdict.CONTINUE
