"""decide stage: what is known of a mail becomes a plan (create or append), a drop, or a hold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from maildesk.addresses import agent_role, rating_address, signed_address
from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.stages import decide, thread_match
from maildesk.pipeline.work import (
    Append,
    Create,
    HoldUnproven,
    Plan,
    Rate,
    StageEnv,
    ThreadMatch,
    Work,
)
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, get_ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk
from tests.mails import mail


def run_decide(
    app: App, raw: bytes, *, thread: ThreadMatch | None = None, automatic: str | None = None
) -> tuple[Disposition, Plan | None]:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        work = Work(item_id=1, raw=raw, mail=parse_mail(raw), thread=thread, automatic=automatic)
        disposition, work = decide.run(work, env)
        return disposition, work.plan


def run_thread_match_then_decide(app: App, raw: bytes) -> tuple[Disposition, Plan | None]:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        work = Work(item_id=1, raw=raw, mail=parse_mail(raw))
        disposition, work = thread_match.run(work, env)
        assert disposition.verdict is Verdict.CONTINUE
        disposition, work = decide.run(work, env)
        return disposition, work.plan


def open_ticket(desk: Desk) -> tuple[int, str]:
    ref = desk.receives(mail(message_id="m1@acme.test")).ticket or ""
    with unit_of_work(desk.app.engine) as session:
        ticket_id = get_ticket(session, ref=ref).id
    assert ticket_id is not None
    return ticket_id, ref


def set_ticket_status(desk: Desk, ref: str, status: str) -> None:
    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=ref)
        change(
            session,
            desk=desk.app.desk,
            ticket=ticket,
            actor=Actor("alice", "cli"),
            now=desk.clock.now(),
            status=status,
        )


def by(
    relation: str, ticket_id: int, *, proof: bool = False, score: int | None = None
) -> ThreadMatch:
    return ThreadMatch(ticket_id, "subject tag", relation, agent_proof=proof, score=score)


# --- no ticket located -------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["support@example.com", "Billing <billing@example.com>"])
def test_a_new_mail_creates_a_ticket(app: App, to: str) -> None:
    disposition, plan = run_decide(app, mail(to=to))

    assert disposition.verdict is Verdict.CONTINUE
    assert plan == Create()  # in the queue it was sent to: the route handler's choice


def test_automatic_mail_matching_no_ticket_is_dropped(app: App) -> None:
    disposition, plan = run_decide(app, mail(), automatic="Auto-Submitted: auto-replied")

    assert disposition.verdict is Verdict.DROP
    assert disposition.reason == "automatic mail (Auto-Submitted: auto-replied) matching no ticket"
    assert plan is None


# --- a ticket located --------------------------------------------------------------------------


def test_automatic_mail_on_a_ticket_is_attached_as_an_internal_system_message(
    app: App, desk: Desk
) -> None:
    ticket_id, _ = open_ticket(desk)

    _, plan = run_decide(app, mail(), thread=by("requester", ticket_id), automatic="List-Id")

    assert plan == Append(ticket_id, role="system", visibility="internal")


@pytest.mark.parametrize("relation", ["requester", "participant", "colleague"])
def test_a_customer_reply_to_an_open_ticket_is_appended(
    app: App, desk: Desk, relation: str
) -> None:
    ticket_id, _ = open_ticket(desk)

    disposition, plan = run_decide(app, mail(), thread=by(relation, ticket_id))

    assert disposition.verdict is Verdict.CONTINUE
    assert plan == Append(ticket_id, role="customer", visibility="public", reopen=False)


@pytest.mark.parametrize("status", ["pending", "resolved", "closed"])
def test_a_customer_reply_reopens_a_waiting_or_recently_closed_ticket(
    app: App, desk: Desk, status: str
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, status)

    _, plan = run_decide(app, mail(), thread=by("requester", ticket_id))

    assert plan == Append(ticket_id, role="customer", visibility="public", reopen=True)


def test_a_reply_after_the_reopen_window_becomes_a_linked_follow_up(
    app: App, desk: Desk, clock: FixedClock
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "closed")
    clock.advance(app.settings.desk.reopen_window + timedelta(minutes=1))

    _, plan = run_decide(app, mail(), thread=by("requester", ticket_id))

    assert plan == Create(linked_to=ticket_id, link_kind="follow-up-of")


def test_a_stranger_naming_a_ticket_gets_a_linked_ticket_of_their_own(app: App, desk: Desk) -> None:
    ticket_id, _ = open_ticket(desk)

    _, plan = run_decide(app, mail(sender="mallory@evil.test"), thread=by("stranger", ticket_id))

    assert plan == Create(linked_to=ticket_id, link_kind="named-by-stranger")


def test_an_agent_without_proof_is_held_and_the_agent_told(app: App, desk: Desk) -> None:
    ticket_id, _ = open_ticket(desk)

    disposition, plan = run_decide(
        app, mail(sender="Alice <alice@example.com>"), thread=by("agent", ticket_id)
    )

    assert disposition.verdict is Verdict.CONTINUE
    assert plan == HoldUnproven(
        "alice@example.com",
        ticket_id,
        "unproven agent: mail from alice@example.com without a signed agent address "
        "or trusted DKIM",
    )


def test_an_agent_with_proof_is_appended_as_an_agent(app: App, desk: Desk) -> None:
    ticket_id, _ = open_ticket(desk)

    _, plan = run_decide(
        app, mail(sender="alice@example.com"), thread=by("agent", ticket_id, proof=True)
    )

    assert plan == Append(ticket_id, role="agent", visibility="public")


# --- thread-match and decide together ----------------------------------------------------------


def test_an_agent_replying_from_their_address_by_subject_tag_is_held(app: App, desk: Desk) -> None:
    _, ref = open_ticket(desk)

    disposition, plan = run_thread_match_then_decide(
        app, mail(sender="alice@example.com", subject=f"Re: [{ref}]", body="#status resolved")
    )

    assert disposition.verdict is Verdict.CONTINUE
    assert isinstance(plan, HoldUnproven) and "unproven agent" in plan.reason


def test_an_agent_replying_to_their_signed_agent_address_is_appended(app: App, desk: Desk) -> None:
    ticket_id, ref = open_ticket(desk)
    address = signed_address(
        desk_address="support@example.com",
        ref=ref,
        secret=app.desk.secrets[0],
        role=agent_role("alice@example.com"),
    )

    disposition, plan = run_thread_match_then_decide(
        app, mail(sender="alice@example.com", to=address, body="#status resolved")
    )

    assert disposition.verdict is Verdict.CONTINUE
    assert plan == Append(ticket_id, role="agent", visibility="public")


# --- ratings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("relation", ["requester", "participant"])
def test_a_participants_rating_of_a_resolved_ticket_is_planned_as_a_rating(
    app: App, desk: Desk, relation: str
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")

    quoted = "On Mon, 23 Nov 2026 at 09:00, Support wrote:\n> Resolved"
    reply = mail(body=f"4. Quick, but\nthe toner is low.\n\n{quoted}\n")
    _, plan = run_decide(app, reply, thread=by(relation, ticket_id))

    assert plan == Rate(ticket_id, 4, "Quick, but\nthe toner is low.")


@pytest.mark.parametrize("relation", ["colleague", "stranger"])
def test_only_a_participant_rates(app: App, desk: Desk, relation: str) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")

    _, plan = run_decide(app, mail(body="1"), thread=by(relation, ticket_id))

    assert not isinstance(plan, Rate)


@pytest.mark.parametrize("status", ["new", "open", "pending"])
def test_a_digit_on_a_ticket_in_work_is_a_reply_not_a_rating(
    app: App, desk: Desk, status: str
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, status)

    _, plan = run_decide(app, mail(body="5"), thread=by("requester", ticket_id))

    assert isinstance(plan, Append)


def test_a_reply_that_is_no_rating_reopens_a_resolved_ticket(app: App, desk: Desk) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")

    body = "4 printers are still down"
    _, plan = run_decide(app, mail(body=body), thread=by("requester", ticket_id))

    assert plan == Append(ticket_id, role="customer", visibility="public", reopen=True)


def test_an_auto_reply_never_rates(app: App, desk: Desk) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")

    _, plan = run_decide(
        app, mail(body="5"), thread=by("requester", ticket_id, score=5), automatic="X-Autoreply"
    )

    assert plan == Append(ticket_id, role="system", visibility="internal")


def test_a_rating_counts_for_the_ratings_window_after_closing_and_no_longer(
    app: App, desk: Desk, clock: FixedClock
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "closed")
    window = app.settings.ratings.window

    clock.advance(window)
    _, within = run_decide(app, mail(body="3: ok"), thread=by("requester", ticket_id))
    clock.advance(timedelta(minutes=1))
    _, after = run_decide(app, mail(body="3: ok"), thread=by("requester", ticket_id))

    assert within == Rate(ticket_id, 3, "ok")
    assert not isinstance(after, Rate)


def test_the_score_of_a_rating_address_wins_and_the_text_is_the_comment(
    app: App, desk: Desk
) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")

    def rated(body: str) -> Plan | None:
        return run_decide(app, mail(body=body), thread=by("requester", ticket_id, score=2))[1]

    assert rated("") == Rate(ticket_id, 2, "", by_address=True)
    assert rated("2 - ") == Rate(ticket_id, 2, "", by_address=True)  # the link's own prefill
    assert rated("2 - Slow.") == Rate(ticket_id, 2, "Slow.", by_address=True)
    assert rated("Slow.") == Rate(ticket_id, 2, "Slow.", by_address=True)
    assert rated("5") == Rate(ticket_id, 2, "", by_address=True)  # the address was signed


def test_a_mail_to_a_rating_address_is_located_by_it_and_rates(app: App, desk: Desk) -> None:
    ticket_id, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")
    secret = app.desk.secrets[0]
    address = rating_address(desk_address="support@example.com", ref=ref, secret=secret, score=4)

    _, plan = run_thread_match_then_decide(app, mail(to=address, subject="Re", body="4 - "))

    assert plan == Rate(ticket_id, 4, "", by_address=True)


def test_a_rating_address_with_its_score_changed_is_no_evidence(app: App, desk: Desk) -> None:
    _, ref = open_ticket(desk)
    set_ticket_status(desk, ref, "resolved")
    secret = app.desk.secrets[0]
    address = rating_address(desk_address="support@example.com", ref=ref, secret=secret, score=1)
    forged = address.replace(f"{ref}.1.", f"{ref}.5.")

    _, plan = run_thread_match_then_decide(app, mail(to=forged, subject="Thanks", body=""))

    assert plan == Create()  # located by nothing: a new ticket, as any unknown mail
