"""loop stage: mail that went round too many relays is held; mail from the desk itself dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.stages import loop
from maildesk.pipeline.work import StageEnv, Work
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
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


# --- mail from the desk itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "own"),
    [
        ("Example Support <support@example.com>", "support@example.com"),
        ("billing@example.com", "billing@example.com"),  # a queue's address
        (
            "Support+TKT-1.abcdefghijklmnop@Example.COM",
            "support+tkt-1.abcdefghijklmnop@example.com",
        ),
        ("billing+bounces@example.com", "billing+bounces@example.com"),
    ],
)
def test_a_mail_from_one_of_the_desks_own_addresses_is_dropped_as_a_loop(
    app: App, sender: str, own: str
) -> None:
    disposition = run_loop(app, mail(sender=sender))

    assert disposition.verdict is Verdict.DROP
    assert disposition.reason == (
        f"mail from the desk's own address {own}: our own mail come back, or a forgery"
    )


def test_any_of_several_from_addresses_being_the_desks_own_is_enough(app: App) -> None:
    raw = b"From: billing@example.com\r\n" + mail()  # Carol's From follows

    assert run_loop(app, raw).verdict is Verdict.DROP


@pytest.mark.parametrize(
    "sender",
    [
        "carol@acme.test",
        "alice@example.com",  # an agent: the desk's domain is not the desk
        "support@example.org",
        "supportdesk@example.com",
        "support@mail.example.com",
    ],
)
def test_mail_from_anyone_else_goes_on(app: App, sender: str) -> None:
    assert run_loop(app, mail(sender=sender)).verdict is Verdict.CONTINUE


def test_a_desk_address_configured_in_another_case_still_counts(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        desk={"address": "Help@Example.com"},
        queues=[
            {"name": "general", "addresses": ["Help@Example.com"]},
            {"name": "billing", "addresses": ["Billing@Example.com"]},
        ],
    )
    app = open_app(settings, clock=FixedClock(START))
    dispositions = [run_loop(app, mail(sender=s)) for s in ("help+x@example.com", "billing@x.test")]
    app.engine.dispose()

    assert [d.verdict for d in dispositions] == [Verdict.DROP, Verdict.CONTINUE]
