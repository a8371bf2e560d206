"""thread-match stage: which ticket a mail belongs to, by what evidence, and who the sender is."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maildesk.addresses import agent_role, rating_address, signed_address
from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.stages import thread_match
from maildesk.pipeline.work import StageEnv, ThreadMatch, Work
from maildesk.services.tickets import get_ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.mails import mail

DESK_ADDRESS = "support@example.com"


def locate(
    app: App, raw: bytes, *, envelope_to: tuple[str, ...] = (), automatic: str | None = None
) -> tuple[Disposition, ThreadMatch | None]:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        work = Work(
            item_id=1, raw=raw, envelope_to=envelope_to, mail=parse_mail(raw), automatic=automatic
        )
        disposition, work = thread_match.run(work, env)
        return disposition, work.thread


def located(app: App, raw: bytes, *, envelope_to: tuple[str, ...] = ()) -> ThreadMatch | None:
    disposition, match = locate(app, raw, envelope_to=envelope_to)
    assert disposition.verdict is Verdict.CONTINUE
    return match


def ticket_id(app: App, ref: str | None) -> int:
    with unit_of_work(app.engine) as session:
        found = get_ticket(session, ref=ref or "")
        assert found.id is not None
        return found.id


def customer_address(app: App, ref: str | None, secret: str | None = None) -> str:
    secret = secret or app.desk.secrets[0]
    return signed_address(desk_address=DESK_ADDRESS, ref=ref or "", secret=secret).lower()


def opened_by_carol(
    desk: Desk, *, sender: str = "Carol Customer <carol@acme.test>", cc: str | None = None
) -> str:
    """The first ticket, opened by a mail with Message-ID m1@acme.test."""
    outcome = desk.receives(mail(sender=sender, cc=cc, message_id="m1@acme.test"))
    assert outcome.outcome == "created" and outcome.ticket
    return outcome.ticket


# --- evidence ----------------------------------------------------------------------------------


def test_a_rating_address_locates_its_ticket_and_carries_its_score(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    secret = app.desk.secrets[0]
    address = rating_address(desk_address=DESK_ADDRESS, ref=ref, secret=secret, score=2).lower()
    altered = address.replace(".2.", ".5.", 1)

    match = located(app, mail(to=address, subject="Re: Printer on fire"))
    envelope = located(app, mail(subject="Rating"), envelope_to=(address,))

    expected = ThreadMatch(ticket_id(app, ref), f"signed address {address}", "requester", score=2)
    assert match == envelope == expected
    assert located(app, mail(to=altered, subject="Rating")) is None  # no evidence at all


def test_a_mail_with_no_evidence_locates_nothing(app: App, desk: Desk) -> None:
    opened_by_carol(desk)

    assert located(app, mail(subject="Another printer", message_id="m2@acme.test")) is None


def test_a_signed_reply_address_locates_its_ticket(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    address = customer_address(app, ref)

    match = located(app, mail(to=address, subject="Re: Printer on fire"))

    assert match == ThreadMatch(ticket_id(app, ref), f"signed address {address}", "requester")


def test_a_signed_address_in_delivered_to_locates(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    address = customer_address(app, ref)

    match = located(app, mail(subject="Re: hi", headers={"Delivered-To": address}))

    assert match is not None and match.ticket_id == ticket_id(app, ref)


def test_a_signed_address_in_the_envelope_locates(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    address = customer_address(app, ref)

    match = located(app, mail(subject="Re: hi"), envelope_to=(address,))

    assert match is not None and match.evidence == f"signed address {address}"


def test_a_forged_signature_is_no_evidence_at_all(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    local, _, domain = customer_address(app, ref).partition("@")
    forged = f"{local[:-1]}{'b' if local.endswith('a') else 'a'}@{domain}"  # one character off

    assert located(app, mail(to=forged, subject="Re: hi")) is None


def test_a_signature_moved_to_another_ticket_is_no_evidence(app: App, desk: Desk) -> None:
    first = opened_by_carol(desk)
    second = desk.receives(mail(subject="Scanner", message_id="m2@acme.test")).ticket
    moved = customer_address(app, first).replace(f"+{first.lower()}.", f"+{second}.".lower())

    assert located(app, mail(to=moved, subject="Re: hi")) is None


def test_a_signature_made_with_an_old_secret_still_verifies(
    app: App, desk: Desk, tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    ref = opened_by_carol(desk)
    address = customer_address(app, ref, secret="s3cret")
    rotated = open_app(
        make_settings(tmp_path, database_url, desk={"secret": "n3w", "old_secrets": ["s3cret"]}),
        clock=clock,
    )
    forgotten = open_app(make_settings(tmp_path, database_url, desk={"secret": "n3w"}), clock=clock)
    try:
        assert rotated.desk.secrets == ("n3w", "s3cret")
        match = located(rotated, mail(to=address, subject="Re: hi"))
        assert match is not None and match.ticket_id == ticket_id(app, ref)
        assert located(forgotten, mail(to=address, subject="Re: hi")) is None
    finally:
        rotated.engine.dispose()
        forgotten.engine.dispose()


def test_references_naming_a_stored_message_locate(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    raw = mail(subject="Re: hi", headers={"References": "<other@acme.test> <m1@acme.test>"})

    match = located(app, raw)

    assert match == ThreadMatch(ticket_id(app, ref), "References <m1@acme.test>", "requester")


def test_in_reply_to_naming_a_stored_message_locates(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)

    match = located(app, mail(subject="Re: hi", in_reply_to="m1@acme.test"))

    assert match == ThreadMatch(ticket_id(app, ref), "In-Reply-To <m1@acme.test>", "requester")


def test_references_naming_an_unknown_message_locate_nothing(app: App, desk: Desk) -> None:
    opened_by_carol(desk)

    assert located(app, mail(subject="Re: hi", in_reply_to="nowhere@acme.test")) is None


@pytest.mark.parametrize("tag", ["[{ref}]", "[{lower}]"])
def test_the_subject_tag_locates(app: App, desk: Desk, tag: str) -> None:
    ref = opened_by_carol(desk)
    subject = "Re: " + tag.format(ref=ref, lower=ref.lower()) + " Printer on fire"

    match = located(app, mail(subject=subject))

    assert match == ThreadMatch(ticket_id(app, ref), f"subject tag [{ref}]", "requester")


@pytest.mark.parametrize("subject", ["Re: [TKT-999] hi", "Re: [ABC-1] hi", "Re: TKT-1 hi"])
def test_a_tag_of_no_ticket_of_ours_locates_nothing(app: App, desk: Desk, subject: str) -> None:
    opened_by_carol(desk)

    assert located(app, mail(subject=subject)) is None


def test_the_strongest_evidence_wins(app: App, desk: Desk) -> None:
    first = opened_by_carol(desk)
    second = desk.receives(mail(subject="Scanner", message_id="s1@acme.test")).ticket
    address = customer_address(app, second)

    match = located(app, mail(to=address, subject=f"Re: [{first}]", in_reply_to="m1@acme.test"))

    assert match is not None and match.ticket_id == ticket_id(app, second)
    assert match.evidence == f"signed address {address}"


def test_a_merged_ticket_is_followed_to_its_target(app: App, desk: Desk) -> None:
    merged = opened_by_carol(desk)
    target = desk.receives(mail(subject="Printers", message_id="t1@acme.test")).ticket
    with unit_of_work(app.engine) as session:
        ticket = get_ticket(session, ref=merged)
        ticket.merged_into_id = get_ticket(session, ref=target or "").id
        session.add(ticket)

    match = located(app, mail(subject=f"Re: [{merged}] Printer on fire"))

    assert match == ThreadMatch(ticket_id(app, target), f"subject tag [{merged}]", "requester")


# --- who the sender is to the ticket ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "relation"),
    [
        ("Carol Customer <carol@acme.test>", "requester"),
        ("CAROL@ACME.TEST", "requester"),
        ("Dan Partner <dan@partner.test>", "participant"),
        ("Dave <dave@acme.test>", "colleague"),
        ("Mallory <mallory@evil.test>", "stranger"),
        ("Bob <bob@example.com>", "agent"),
    ],
)
def test_the_sender_relation_to_the_ticket(
    app: App, desk: Desk, sender: str, relation: str
) -> None:
    ref = opened_by_carol(desk, cc="Dan Partner <dan@partner.test>")

    match = located(app, mail(sender=sender, subject=f"Re: [{ref}] Printer on fire"))

    assert match is not None and match.relation == relation


def test_a_free_mail_neighbour_is_no_colleague(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk, sender="Gina <gina@gmail.com>")

    match = located(app, mail(sender="hank@gmail.com", subject=f"Re: [{ref}] hi"))

    assert match is not None and match.relation == "stranger"


def test_colleagues_are_strangers_when_the_config_admits_none(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    strict = app.settings.model_copy(
        update={"desk": app.settings.desk.model_copy(update={"admit_colleagues": False})}
    )
    strict_app = replace(app, desk=replace(app.desk, settings=strict))

    match = located(strict_app, mail(sender="dave@acme.test", subject=f"Re: [{ref}] hi"))

    assert match is not None and match.relation == "stranger"


# --- agents and their proof ----------------------------------------------------------------


def test_an_agent_writing_to_their_signed_agent_address_has_proof(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    address = signed_address(
        desk_address=DESK_ADDRESS,
        ref=ref,
        secret=app.desk.secrets[0],
        role=agent_role("alice@example.com"),
    ).lower()

    match = located(app, mail(sender="Alice <alice@example.com>", to=address, subject="Re: hi"))

    assert match == ThreadMatch(
        ticket_id(app, ref), f"signed address {address}", "agent", agent_proof=True
    )


def test_an_agent_located_by_the_subject_tag_has_no_proof(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)

    match = located(app, mail(sender="alice@example.com", subject=f"Re: [{ref}] hi"))

    assert match is not None
    assert (match.relation, match.agent_proof) == ("agent", False)


def test_an_agent_address_proves_nothing_for_anyone_else(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    alices = signed_address(
        desk_address=DESK_ADDRESS,
        ref=ref,
        secret=app.desk.secrets[0],
        role=agent_role("alice@example.com"),
    )

    assert located(app, mail(sender="bob@example.com", to=alices, subject="Re: hi")) is None


# --- no single sender --------------------------------------------------------------------------


def test_a_mail_with_two_from_headers_is_held(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    raw = b"From: alice@example.com\r\n" + mail(subject=f"Re: [{ref}] #status resolved")

    disposition, match = locate(app, raw)

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "no single sender: 2 From headers, 2 usable addresses"
    assert match is None


def test_automatic_mail_without_a_single_sender_still_threads(app: App, desk: Desk) -> None:
    ref = opened_by_carol(desk)
    raw = b"From: bounce@mx.acme.test\r\n" + mail(subject=f"Undeliverable: [{ref}]")

    disposition, match = locate(app, raw, automatic="null return path <>")

    assert disposition.verdict is Verdict.CONTINUE
    assert match is not None and match.relation == "stranger"
