"""Conversations: an agent resolves, the customer rates by replying or by a rating link.

The mail that says "resolved" asks for the rating (one mail, five `mailto:` links, each to its
own signed rating address); a reply whose first line is a rating records it and closes the
ticket; anything else is a reply as before.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from maildesk.addresses import parse_signed, rating_role, verify
from tests.conftest import Desk
from tests.conversations.helpers import (
    ALICE,
    BOB,
    CAROL,
    agent_replies,
    body_of,
    customer_writes,
    mails_to,
    one_to,
    reply_to_of,
    to_of,
)
from tests.mails import mail

QUOTED = "\n\nOn Mon, 23 Nov 2026 at 10:00, Example Support wrote:\n> We have marked it resolved.\n"
DAN = "dan@acme.test"


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def rating_links(message: EmailMessage) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(r'href="(mailto:[^"]+)"', html_of(message))
    ]


def events_of(ticket: dict[str, Any], type: str) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == type]


def resolved(
    desk: Desk, *, by: str = ALICE, commands: str = "#resolve", cc: str | None = None
) -> tuple[str, EmailMessage]:
    """Carol writes, an agent resolves it from their notice: the ref and the mail Carol gets."""
    ref, notices = customer_writes(desk, cc=cc) if cc else customer_writes(desk)
    notice = notices["bob@example.com" if by == BOB else "alice@example.com"]
    agent_replies(desk, notice, commands, sender=by)
    told = one_to(desk.sent(), CAROL)
    return ref, told


def customer_answers(
    desk: Desk, told: EmailMessage, body: str, *, sender: str = CAROL, **fields: Any
) -> Any:
    """The customer replies to the mail they got, as their mail client does: to its Reply-To."""
    return desk.receives(
        mail(
            sender=sender,
            to=reply_to_of(told),
            subject=f"Re: {told['Subject']}",
            in_reply_to=str(told["Message-ID"]).strip("<>"),
            body=body + QUOTED,
            **fields,
        )
    )


def clicks(desk: Desk, told: EmailMessage, score: int, body: str = "") -> Any:
    """The customer clicks rating link `score`: a mail to its address, its subject, no thread."""
    link = urlsplit(rating_links(told)[score - 1])
    subject = parse_qs(link.query)["subject"][0]
    return desk.receives(mail(to=unquote(link.path), subject=subject, body=body))


# --- the rating request ------------------------------------------------------------------------


def test_resolving_sends_one_mail_with_five_signed_rating_links_and_no_web_link(desk: Desk) -> None:
    ref, told = resolved(desk)

    assert str(told["Subject"]) == f"[{ref}] Resolved: Printer on fire - how did we do?"
    links = rating_links(told)
    addresses = [unquote(urlsplit(link).path) for link in links]
    assert len(links) == 5 and len(set(addresses)) == 5
    for score, (link, address) in enumerate(zip(links, addresses, strict=True), start=1):
        signed = parse_signed(address)
        assert signed is not None and (signed.ref, signed.score) == (ref, score)
        assert verify(signed, secrets_=desk.app.desk.secrets, role=rating_role(score))
        assert f"[{ref}]" in parse_qs(urlsplit(link).query)["subject"][0]
        assert address in body_of(told)  # the text part offers the same five
    assert "http" not in body_of(told) and "http" not in html_of(told)
    assert "5 - Quick and friendly, thank you!" in body_of(told)
    assert desk.ticket(ref)["status"] == "resolved"


def test_a_resolving_reply_is_the_one_mail_and_it_carries_the_rating_links(desk: Desk) -> None:
    _, told = resolved(desk, commands="#resolve\n\nThe new fuser is in.")

    assert body_of(told).startswith("The new fuser is in.")
    assert len(rating_links(told)) == 5
    assert "http" not in body_of(told) and "http" not in html_of(told)


def test_closing_still_sends_the_status_mail_without_a_rating_request(desk: Desk) -> None:
    ref, told = resolved(desk, commands="#close")

    assert str(told["Subject"]) == f"[{ref}] Closed: Printer on fire"
    assert rating_links(told) == [] and "mailto:" not in body_of(told)


# --- rating by reply ---------------------------------------------------------------------------


def test_a_lone_digit_rates_closes_the_ticket_and_thanks_the_customer(desk: Desk) -> None:
    ref, told = resolved(desk)

    outcome = customer_answers(desk, told, "4")

    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    assert outcome.reason is not None and outcome.reason.startswith("rated 4; ")
    ticket = desk.ticket(ref)
    assert ticket["status"] == "closed"
    assert ticket["rating"] == {"score": 4, "comment": "", "at": "2026-11-23T09:00:00Z"}
    last = ticket["messages"][-1]
    assert (last["role"], last["visibility"], last["text"]) == ("customer", "public", "4")
    [rated] = events_of(ticket, "rated")
    assert rated["data"] == {"score": 4, "comment": "", "by": "reply"}
    assert events_of(ticket, "reopen") == []
    sent = desk.sent()
    assert [to_of(m) for m in sent] == [[CAROL]]  # thanks; no customer-reply notice to agents
    assert "4 of 5" in body_of(sent[0]) and sent[0]["Auto-Submitted"] == "auto-replied"


def test_a_digit_a_dash_and_a_comment_rate_with_that_comment(desk: Desk) -> None:
    ref, told = resolved(desk)

    customer_answers(desk, told, "5 – thanks!")  # noqa: RUF001 - the en dash mail clients make

    assert desk.ticket(ref)["rating"]["score"] == 5
    assert desk.ticket(ref)["rating"]["comment"] == "thanks!"


def test_a_digit_a_full_stop_and_a_comment_of_several_lines(desk: Desk) -> None:
    ref, told = resolved(desk)

    customer_answers(desk, told, "4. Quick, but…\nthe toner was empty again.")

    rating = desk.ticket(ref)["rating"]
    assert (rating["score"], rating["comment"]) == (4, "Quick, but…\nthe toner was empty again.")


def test_stars_rate(desk: Desk) -> None:
    ref, told = resolved(desk)

    customer_answers(desk, told, "★★★★")

    assert desk.ticket(ref)["rating"]["score"] == 4


def test_a_number_that_starts_a_sentence_is_no_rating_and_reopens(desk: Desk) -> None:
    ref, told = resolved(desk)

    outcome = customer_answers(desk, told, "4 printers are still down")

    assert (outcome.outcome, outcome.ticket) == ("reopened", ref)
    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["rating"]) == ("open", None)
    assert "4 printers are still down" in body_of(one_to(desk.sent(), "alice@example.com"))


def test_a_second_rating_replaces_the_first(desk: Desk) -> None:
    ref, told = resolved(desk)
    customer_answers(desk, told, "2 - slow")
    desk.clock.advance(timedelta(hours=2))

    outcome = customer_answers(desk, told, "5 - sorry, it works fine now")

    assert outcome.outcome == "appended"
    ticket = desk.ticket(ref)
    assert ticket["status"] == "closed"
    assert ticket["rating"] == {
        "score": 5,
        "comment": "sorry, it works fine now",
        "at": "2026-11-23T11:00:00Z",
    }
    assert [e["data"]["score"] for e in events_of(ticket, "rated")] == [2, 5]
    assert events_of(ticket, "rated")[-1]["data"]["replaces"] == 2


def test_an_auto_reply_to_the_rating_request_never_rates(desk: Desk) -> None:
    ref, told = resolved(desk)

    customer_answers(desk, told, "5", headers={"Auto-Submitted": "auto-replied"})

    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["rating"]) == ("resolved", None)


# --- rating by link ----------------------------------------------------------------------------


def test_a_mail_to_a_rating_address_with_an_empty_body_rates_by_the_address(desk: Desk) -> None:
    ref, told = resolved(desk)

    outcome = clicks(desk, told, 3)

    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    ticket = desk.ticket(ref)
    assert ticket["status"] == "closed"
    assert (ticket["rating"]["score"], ticket["rating"]["comment"]) == (3, "")
    assert events_of(ticket, "rated")[0]["data"]["by"] == "rating address"


def test_the_links_prefilled_score_is_left_out_of_the_comment(desk: Desk) -> None:
    ref, told = resolved(desk)

    clicks(desk, told, 4, body="4 - The technician was great.")

    rating = desk.ticket(ref)["rating"]
    assert (rating["score"], rating["comment"]) == (4, "The technician was great.")


def test_a_rating_address_with_its_score_changed_does_not_rate(desk: Desk) -> None:
    ref, told = resolved(desk)
    address = unquote(urlsplit(rating_links(told)[0]).path)
    forged = address.replace(f"{ref}.1.", f"{ref}.5.")

    desk.receives(mail(to=forged, subject=f"Re: [{ref}] Printer on fire", body=""))

    ticket = desk.ticket(ref)
    assert ticket["rating"] is None and events_of(ticket, "rated") == []
    assert ticket["status"] == "open"  # the subject tag found it: an (empty) reply, as before


# --- who may rate, and when --------------------------------------------------------------------


def test_a_participant_copied_on_the_ticket_may_rate(desk: Desk) -> None:
    ref, told = resolved(desk, cc=DAN)

    outcome = customer_answers(desk, told, "5", sender=f"Dan <{DAN}>")

    assert outcome.outcome == "appended"
    assert desk.ticket(ref)["rating"]["score"] == 5
    assert [to_of(m) for m in desk.sent()] == [[DAN]]  # the one who rated is thanked


def test_a_strangers_rating_is_ignored(desk: Desk) -> None:
    ref, told = resolved(desk)

    by_reply = customer_answers(desk, told, "1", sender="mallory@evil.test")
    by_link = clicks_as(desk, told, 1, sender="mallory@evil.test")

    assert by_reply.outcome == by_link.outcome == "created"  # their own tickets, as before
    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["rating"]) == ("resolved", None)
    assert not any("Rated" in str(m["Subject"]) for m in desk.sent())


def clicks_as(desk: Desk, told: EmailMessage, score: int, *, sender: str) -> Any:
    link = urlsplit(rating_links(told)[score - 1])
    return desk.receives(mail(sender=sender, to=unquote(link.path), subject="Re", body=""))


def test_a_rating_after_closing_counts_within_the_window_and_does_not_reopen(desk: Desk) -> None:
    ref, told = resolved(desk, commands="#close")
    desk.clock.advance(desk.app.settings.ratings.window - timedelta(hours=1))

    outcome = customer_answers(desk, told, "5 - all good")

    assert outcome.outcome == "appended"
    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["rating"]["score"]) == ("closed", 5)
    assert events_of(ticket, "reopen") == []


def test_a_rating_after_the_window_does_not_count(desk: Desk) -> None:
    ref, told = resolved(desk, commands="#close")
    desk.clock.advance(desk.app.settings.ratings.window + timedelta(hours=1))

    outcome = customer_answers(desk, told, "5 - all good")

    assert outcome.ticket != ref  # past the reopen window too: a follow-up, as any late reply
    assert desk.ticket(ref)["rating"] is None


# --- a poor rating -----------------------------------------------------------------------------


def test_a_low_rating_alerts_the_assignee_and_the_supervisors_with_the_comment(desk: Desk) -> None:
    ref, told = resolved(desk, by=BOB, commands="#assign me\n#resolve")

    customer_answers(desk, told, "1 - Nobody called back.\nThe printer still smells.")

    sent = desk.sent()
    for agent in ("bob@example.com", "alice@example.com"):
        alert = one_to(sent, agent)
        assert str(alert["Subject"]) == f"[{ref}] Rated 1 of 5: Printer on fire"
        text = body_of(alert).replace("\r\n", "\n")
        assert "Carol Customer <carol@acme.test> rated ticket" in text
        assert "> Nobody called back.\n> The printer still smells." in text
        signed = parse_signed(reply_to_of(alert))
        assert signed is not None and signed.ref == ref
        assert verify(signed, secrets_=desk.app.desk.secrets, role=f"agent:{agent}")
    thanks = one_to(sent, CAROL)
    assert "We are sorry it was not better." in body_of(thanks)
    assert len(sent) == 3


def test_a_good_rating_alerts_nobody(desk: Desk) -> None:
    _, told = resolved(desk, by=BOB, commands="#assign me\n#resolve")

    customer_answers(desk, told, "3")

    assert mails_to(desk.sent(), "alice@example.com") == []
