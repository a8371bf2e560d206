"""blacklist stage: a sender on the blacklist (config or database) is rejected with the reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.stages import blacklist
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.blacklist import add_entry
from tests.mails import mail


def run_blacklist(app: App, raw: bytes, *, envelope_from: str | None = None) -> Disposition:
    work = Work(item_id=1, raw=raw, mail=parse_mail(raw), envelope_from=envelope_from)
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        disposition, _ = blacklist.run(work, env)
        return disposition


def blacklisting(app: App, value: str, kind: str | None = None) -> None:
    with unit_of_work(app.engine) as session:
        add_entry(session, value=value, kind=kind, now=app.desk.clock.now())


def with_patterns(app: App, *patterns: str) -> App:
    config = app.settings.blacklist.model_copy(update={"patterns": patterns})
    settings = app.settings.model_copy(update={"blacklist": config})
    return replace(app, desk=replace(app.desk, settings=settings))


def test_a_sender_on_no_list_goes_on(app: App) -> None:
    assert run_blacklist(app, mail(sender="carol@acme.test")).verdict is Verdict.CONTINUE


@pytest.mark.parametrize("sender", ["spammer@example.net", "Spam King <SPAMMER@Example.NET>"])
def test_a_configured_address_is_rejected(app: App, sender: str) -> None:
    disposition = run_blacklist(app, mail(sender=sender))

    assert disposition.verdict is Verdict.REJECT
    assert disposition.reason == (
        "blacklisted sender spammer@example.net (address spammer@example.net in config)"
    )


@pytest.mark.parametrize("sender", ["x@blocked.example", "x@mx.eu.blocked.example"])
def test_a_configured_domain_rejects_it_and_its_subdomains(app: App, sender: str) -> None:
    disposition = run_blacklist(app, mail(sender=sender))

    assert disposition.verdict is Verdict.REJECT
    assert disposition.reason == f"blacklisted sender {sender} (domain blocked.example in config)"


@pytest.mark.parametrize("sender", ["x@notblocked.example", "blocked.example@acme.test"])
def test_a_domain_that_only_ends_alike_goes_on(app: App, sender: str) -> None:
    assert run_blacklist(app, mail(sender=sender)).verdict is Verdict.CONTINUE


def test_a_configured_pattern_is_rejected(app: App) -> None:
    disposition = run_blacklist(with_patterns(app, "*@spam-*.test"), mail(sender="a@spam-1.test"))

    assert disposition.verdict is Verdict.REJECT
    assert disposition.reason == (
        "blacklisted sender a@spam-1.test (pattern *@spam-*.test in config)"
    )


@pytest.mark.parametrize(
    ("value", "sender", "entry"),
    [
        ("Pest@Nuisance.test", "pest@nuisance.test", "address pest@nuisance.test"),
        ("nuisance.test", "anyone@mail.nuisance.test", "domain nuisance.test"),
        ("newsletter-*@*", "newsletter-42@shop.test", "pattern newsletter-*@*"),
    ],
)
def test_an_entry_added_to_the_database_is_rejected(
    app: App, value: str, sender: str, entry: str
) -> None:
    assert run_blacklist(app, mail(sender=sender)).verdict is Verdict.CONTINUE
    blacklisting(app, value)

    disposition = run_blacklist(app, mail(sender=sender))

    assert disposition.verdict is Verdict.REJECT
    assert disposition.reason == f"blacklisted sender {sender} ({entry})"


def test_a_blacklisted_return_path_is_rejected_whatever_the_from(app: App) -> None:
    raw = mail(sender="carol@acme.test", headers={"Return-Path": "<bounces@blocked.example>"})

    disposition = run_blacklist(app, raw)

    assert disposition.verdict is Verdict.REJECT
    assert "bounces@blocked.example" in disposition.reason


def test_a_blacklisted_address_in_a_second_from_header_is_rejected(app: App) -> None:
    raw = b"From: spammer@example.net\r\n" + mail(sender="carol@acme.test")

    assert run_blacklist(app, raw).verdict is Verdict.REJECT


def test_a_blacklisted_envelope_sender_is_rejected_whatever_the_from(app: App) -> None:
    raw = mail(sender="carol@acme.test")

    disposition = run_blacklist(app, raw, envelope_from="Bulk@Mx.Blocked.Example")

    assert disposition.verdict is Verdict.REJECT
    assert disposition.reason == (
        "blacklisted sender bulk@mx.blocked.example (domain blocked.example in config)"
    )


@pytest.mark.parametrize("envelope_from", [None, "", "carol@acme.test"])
def test_an_unknown_null_or_clean_envelope_sender_goes_on(
    app: App, envelope_from: str | None
) -> None:
    disposition = run_blacklist(app, mail(sender="carol@acme.test"), envelope_from=envelope_from)

    assert disposition.verdict is Verdict.CONTINUE


def test_a_database_entry_is_matched_against_the_envelope_sender(app: App) -> None:
    blacklisting(app, "relay.nuisance.test")

    disposition = run_blacklist(app, mail(), envelope_from="x@relay.nuisance.test")

    assert disposition.reason == (
        "blacklisted sender x@relay.nuisance.test (domain relay.nuisance.test)"
    )


def test_one_transaction_reads_the_table_once_yet_sees_what_it_adds_and_forgets_a_rollback(
    app: App,
) -> None:
    """A batch's mails share one read of the table: an entry added in the batch is seen by the
    mails after it; an entry whose savepoint rolled back is not."""
    raw = mail(sender="carol@acme.test")
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        work = Work(item_id=1, raw=raw, mail=parse_mail(raw))
        assert blacklist.run(work, env)[0].verdict is Verdict.CONTINUE
        savepoint = session.begin_nested()
        add_entry(session, value="carol@acme.test", now=env.now)
        assert blacklist.run(work, env)[0].verdict is Verdict.REJECT
        savepoint.rollback()
        assert blacklist.run(work, env)[0].verdict is Verdict.CONTINUE
        add_entry(session, value="acme.test", now=env.now)
        assert blacklist.run(work, env)[0].verdict is Verdict.REJECT
