"""Conversations: agents answer their notifications with command lines, and start tickets by mail.

An agent replies to the notice maildesk sent them (its Reply-To is their signed address); the
command lines at the top act on the ticket, the rest goes to the customer unless it is a #note.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from maildesk.addresses import agent_role, signed_address
from maildesk.app import open_app
from maildesk.daemon.tick import tick
from maildesk.db import unit_of_work
from maildesk.models import Ticket, TimeEntry, Watcher
from maildesk.services.agents import add_agent
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import (
    ALICE,
    BOB,
    CAROL,
    agent_messages,
    agent_replies,
    body_of,
    customer_writes,
    mails_to,
    one_to,
    reply_to_of,
    to_of,
)
from tests.mails import mail

QUOTED_NOTICE = (
    "\n\nOn Mon, 23 Nov 2026 at 09:00, Example Support wrote:\n"
    "> Hello Alice,\n> a new ticket has arrived in queue general.\n"
)


def events_of(ticket: dict[str, Any], type: str) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == type]


def stored_ticket(desk: Desk, ref: str) -> Ticket:
    with unit_of_work(desk.app.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.ref == ref)).one()
        session.expunge(ticket)
        return ticket


# --- replying with commands --------------------------------------------------------------------


def test_commands_act_on_the_ticket_and_only_the_text_reaches_the_customer(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    outcome = agent_replies(
        desk,
        notices["alice@example.com"],
        "#assign me\n#status pending\n\nWe ordered a new fuser, it arrives Tuesday."
        + QUOTED_NOTICE,
    )

    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    relayed = one_to(desk.sent(), CAROL)
    text = body_of(relayed)
    assert text.startswith("We ordered a new fuser, it arrives Tuesday.")
    assert "#assign" not in text and "#status" not in text
    assert "a new ticket has arrived" not in text  # the agent's quoted notice stays home
    html = relayed.get_body(preferencelist=("html",))
    assert html is not None and "#assign" not in str(html.get_content())
    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["assignee"]) == ("pending", "alice@example.com")
    [reply] = agent_messages(ticket)
    assert (reply["direction"], reply["visibility"], reply["text"]) == (
        "out",
        "public",
        "We ordered a new fuser, it arrives Tuesday.",
    )
    for change in (*events_of(ticket, "assign"), *events_of(ticket, "status")):
        assert (change["actor"], change["source"]) == (
            "alice@example.com",
            f"mail:{outcome.item_id}",
        )
    assert events_of(ticket, "assign")[0]["data"] == {"to": "alice@example.com"}
    assert events_of(ticket, "status")[-1]["data"] == {"from": "new", "to": "pending"}


def test_a_note_reaches_no_customer_and_is_shown_to_agents(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#note\n\nCustomer is on the old firmware.")

    assert mails_to(desk.sent(), CAROL) == []
    ticket = desk.ticket(ref)
    [note] = agent_messages(ticket)
    assert (note["direction"], note["visibility"], note["text"]) == (
        "out",
        "internal",
        "Customer is on the old firmware.",
    )
    assert ticket["status"] == "new"  # a note is no first response


@pytest.mark.parametrize(
    ("bad_line", "why"),
    [
        ("#priority extreme", "unknown priority"),
        ("#assign nobody@example.com", "no such agent"),
        ("#queue nowhere", "no such queue"),
        ("#macro no-such-macro", "no macro named"),
        ("#merge TKT-99", "no other ticket"),
        ("#frobnicate", "unknown command #frobnicate"),
        ("#snooze soon", "not a future duration or date"),
        ("#status closed", "#status may be given once per message"),
    ],
)
def test_a_bad_command_changes_nothing_and_the_agent_hears_why(
    desk: Desk, bad_line: str, why: str
) -> None:
    ref, notices = customer_writes(desk)
    before = desk.ticket(ref)

    outcome = agent_replies(
        desk,
        notices["alice@example.com"],
        f"#status resolved\n{bad_line}\n#assign me\n\nRefund approved.",
    )

    assert outcome.outcome == "rejected"
    sent = desk.sent()
    assert mails_to(sent, CAROL) == []
    error = one_to(sent, "alice@example.com")
    assert f"[{ref}] Not applied:" in str(error["Subject"])
    assert bad_line in body_of(error) and why in body_of(error)
    ticket = desk.ticket(ref)
    for field in ("status", "priority", "assignee", "queue", "tags"):
        assert ticket[field] == before[field], field
    assert not [
        m for m in ticket["messages"] if m["visibility"] == "public" and m["role"] != "customer"
    ]
    assert "Refund approved." not in [m["text"] for m in ticket["messages"]]


def test_the_error_mail_answers_the_agents_rejected_mail(desk: Desk) -> None:
    _, notices = customer_writes(desk, message_id="m1@acme.test")
    notice = notices["alice@example.com"]
    notice_id = str(notice["Message-ID"]).strip("<>")

    agent_replies(desk, notice, "#priority extreme\n\nHi", message_id="a1@example.com")

    error = one_to(desk.sent(), "alice@example.com")
    assert error["In-Reply-To"] == "<a1@example.com>"
    assert str(error["References"]).split() == [f"<{notice_id}>", "<a1@example.com>"]


def test_the_error_mail_about_a_ticket_not_started_answers_the_agents_mail(desk: Desk) -> None:
    desk.receives(
        mail(
            sender=ALICE,
            to=compose_address(desk),
            subject="Hello",
            body="Hello there.",
            message_id="c1@example.com",
        )
    )

    error = one_to(desk.sent(), "alice@example.com")
    assert error["In-Reply-To"] == "<c1@example.com>"


def test_every_bad_line_is_named_in_one_error_mail(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#priority extreme\n#queue nowhere\n\nHi")

    error = one_to(desk.sent(), "alice@example.com")
    assert "#priority extreme" in body_of(error) and "#queue nowhere" in body_of(error)
    assert desk.ticket(ref)["priority"] == "normal"


def test_merge_moves_messages_participants_and_events_into_the_target(desk: Desk) -> None:
    target, _ = customer_writes(desk, message_id="m1@acme.test")
    source, notices = customer_writes(
        desk,
        sender="Dave <dave@acme.test>",
        subject="Printer still on fire",
        body="Me too.",
        message_id="m2@acme.test",
    )

    merged = agent_replies(
        desk, notices["alice@example.com"], f"#merge {target}\n\nMerged with your colleague's."
    )

    assert (merged.outcome, merged.ticket) == ("appended", target)
    into = desk.ticket(target)
    assert [m["text"] for m in into["messages"]] == [
        "Help, it burns.",
        "Me too.",
        "Merged with your colleague's.",
    ]
    assert "dave@acme.test" in into["participants"]
    assert {"created", "merged"} <= {e["type"] for e in into["events"]}
    assert [e["data"]["requester"] for e in events_of(into, "created")] == [CAROL]
    assert events_of(into, "merged")[0]["data"] == {"from": source}
    old = desk.ticket(source)
    assert old["status"] == "closed"
    assert old["messages"] == []
    assert events_of(old, "merged")[0]["data"] == {"into": target}
    assert [e["data"]["requester"] for e in events_of(old, "created")] == ["dave@acme.test"]
    assert stored_ticket(desk, source).merged_into_id == stored_ticket(desk, target).id
    assert set(to_of(one_to(desk.sent(), "dave@acme.test"))) == {CAROL, "dave@acme.test"}

    by_tag = desk.receives(
        mail(sender="dave@acme.test", subject=f"Re: [{source}] Printer still on fire", body="Ok.")
    )
    by_ack = desk.receives(
        mail(
            sender="dave@acme.test",
            subject="Re: Printer still on fire",
            in_reply_to=str(notices["dave@acme.test"]["Message-ID"]).strip("<>"),
            body="Thanks.",
        )
    )

    assert (by_tag.outcome, by_tag.ticket) == ("appended", target)
    assert (by_ack.outcome, by_ack.ticket) == ("appended", target)
    assert [m["text"] for m in desk.ticket(target)["messages"]][-2:] == ["Ok.", "Thanks."]
    assert desk.ticket(source)["messages"] == []


def test_merging_back_into_a_ticket_merged_into_this_one_is_refused(desk: Desk) -> None:
    target, target_notices = customer_writes(desk, message_id="m1@acme.test")
    source, notices = customer_writes(
        desk, sender="dave@acme.test", subject="Also", message_id="m2@acme.test"
    )
    agent_replies(desk, notices["alice@example.com"], f"#merge {target}")
    desk.sent()

    again = agent_replies(desk, target_notices["alice@example.com"], f"#merge {source}\n\nHi")

    assert again.outcome == "rejected"
    assert desk.ticket(target)["status"] == "new"
    assert len(desk.ticket(target)["messages"]) == 2
    assert mails_to(desk.sent(), CAROL) == []


@pytest.fixture
def berlin_desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    """A desk whose people live in Berlin (winter: UTC+1)."""
    settings = make_settings(tmp_path, database_url, desk={"timezone": "Europe/Berlin"})
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def test_a_snooze_until_a_local_time_wakes_then_and_says_so_in_local_time(
    berlin_desk: Desk,
) -> None:
    desk = berlin_desk  # the clock stands at 09:00 UTC, 10:00 in Berlin
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#snooze 2026-11-23T14:00")
    desk.sent()

    desk.clock.advance(timedelta(hours=4))  # 13:00 UTC = 14:00 in Berlin
    tick(desk.app)

    assert desk.ticket(ref)["status"] == "open"
    wakeup = one_to(desk.sent(), "alice@example.com")
    assert "ended at 2026-11-23 14:00 CET" in body_of(wakeup)


def test_snooze_makes_the_ticket_pending_until_the_time_is_up(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#snooze 2h")

    assert desk.ticket(ref)["status"] == "pending"
    assert events_of(desk.ticket(ref), "snooze")[0]["data"] == {
        "until": (desk.clock.now() + timedelta(hours=2)).isoformat()
    }
    desk.sent()
    desk.clock.advance(timedelta(hours=1, minutes=59))
    tick(desk.app)
    assert desk.ticket(ref)["status"] == "pending"
    assert desk.sent() == []

    desk.clock.advance(timedelta(minutes=2))
    tick(desk.app)

    assert desk.ticket(ref)["status"] == "open"
    woken = desk.sent()
    for agent in ("alice@example.com", "bob@example.com"):
        wakeup = one_to(woken, agent)
        assert f"[{ref}] Snooze ended:" in str(wakeup["Subject"])
        assert ref in body_of(wakeup)
    assert mails_to(woken, CAROL) == []
    assert events_of(desk.ticket(ref), "snooze-ended")[0]["actor"] == "maildesk"


def test_a_snoozed_ticket_with_an_assignee_wakes_only_the_assignee(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["bob@example.com"], "#assign me\n#snooze 3d", sender=BOB)
    desk.sent()

    desk.clock.advance(timedelta(days=3, minutes=1))
    tick(desk.app)

    assert desk.ticket(ref)["status"] == "open"
    assert [to_of(m) for m in desk.sent()] == [["bob@example.com"]]


def test_a_snooze_ending_wakes_the_watchers_too(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#watch")
    agent_replies(desk, notices["bob@example.com"], "#assign me\n#snooze 1d", sender=BOB)
    desk.sent()

    desk.clock.advance(timedelta(days=1, minutes=1))
    tick(desk.app)

    woken = desk.sent()
    assert sorted(to_of(m)[0] for m in woken) == ["alice@example.com", "bob@example.com"]
    assert all(f"[{ref}] Snooze ended:" in str(m["Subject"]) for m in woken)


def test_a_macro_is_what_the_customer_reads_before_the_agents_own_text(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#macro need-details\n\nThanks, Alice")

    text = body_of(one_to(desk.sent(), CAROL))
    assert text.startswith("Hello Carol Customer,")
    assert 'to help you with "Printer on fire" we need a few more details' in text
    assert text.index("we need a few more details") < text.index("Thanks, Alice")
    assert "#macro" not in text
    [reply] = agent_messages(desk.ticket(ref))
    assert reply["text"].startswith("Hello Carol Customer,")
    assert reply["text"].endswith("Thanks, Alice")


def test_time_spent_is_logged(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    outcome = agent_replies(desk, notices["alice@example.com"], "#time 90m")

    ticket = desk.ticket(ref)
    [logged] = events_of(ticket, "time")
    assert (logged["data"], logged["actor"], logged["source"]) == (
        {"minutes": 90},
        "alice@example.com",
        f"mail:{outcome.item_id}",
    )
    with unit_of_work(desk.app.engine) as session:
        assert [e.minutes for e in session.exec(select(TimeEntry))] == [90]
    assert mails_to(desk.sent(), CAROL) == []  # no text, nothing relayed


def dana_works_level_two(desk: Desk) -> None:
    """A second-level agent in the general queue, for escalations to reach."""
    with unit_of_work(desk.app.engine) as session:
        add_agent(
            session,
            email="dana@example.com",
            name="Dana",
            role="agent",
            level=2,
            queues=["general"],
            known_queues=desk.app.settings.queue_names(),
        )


def test_escalate_moves_to_the_next_level_and_notifies_its_agents(desk: Desk) -> None:
    dana_works_level_two(desk)
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["bob@example.com"], "#escalate", sender=BOB)

    assert stored_ticket(desk, ref).level == 2
    assert events_of(desk.ticket(ref), "escalate")[0]["data"] == {"level": 2}
    sent = desk.sent()
    assert [to_of(m) for m in sent] == [["dana@example.com"]]
    assert str(sent[0]["Subject"]) == f"[{ref}] Escalated to level 2: Printer on fire"
    text = body_of(sent[0])
    assert f"Bob escalated ticket {ref} from support level 1 to support level 2." in text
    assert "due at" not in text and "overdue" not in text and "Why" not in text
    dana = reply_to_of(sent[0])
    assert dana == signed_address(
        desk_address="support@example.com",
        ref=ref,
        secret=desk.app.desk.secret,
        role=agent_role("dana@example.com"),
    )


def test_an_escalation_says_why_in_the_agents_words(desk: Desk) -> None:
    dana_works_level_two(desk)
    _, notices = customer_writes(desk)

    agent_replies(
        desk,
        notices["bob@example.com"],
        "#escalate\n#note\n\nThe printer is leased: level 2 has the contract.",
        sender=BOB,
    )

    notice = one_to(desk.sent(), "dana@example.com")
    text = body_of(notice).replace("\r\n", "\n")
    assert "Why, as Bob wrote it:\n\nThe printer is leased: level 2 has the contract." in text
    html = notice.get_body(preferencelist=("html",))
    assert html is not None and "level 2 has the contract." in str(html.get_content())


def test_a_watcher_hears_of_an_escalation_but_not_the_agent_who_escalated(desk: Desk) -> None:
    dana_works_level_two(desk)
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#watch")
    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)
    desk.sent()

    agent_replies(desk, notices["bob@example.com"], "#escalate", sender=BOB)

    sent = desk.sent()
    assert sorted(to_of(m)[0] for m in sent) == ["alice@example.com", "dana@example.com"]
    assert all(f"[{ref}]" in str(m["Subject"]) for m in sent)


def test_a_watcher_reads_a_colleagues_public_reply_but_not_a_note(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)
    desk.sent()

    agent_replies(desk, notices["alice@example.com"], "We are on our way.")
    agent_replies(desk, notices["alice@example.com"], "#note\n\nBring a fire extinguisher.")

    sent = desk.sent()
    copy = one_to(sent, "bob@example.com")
    assert f"[{ref}]" in str(copy["Subject"]) and "We are on our way." in body_of(copy)
    assert "fire extinguisher" not in body_of(copy)
    assert mails_to(sent, "alice@example.com") == []  # the author gets no copy


def test_cc_adds_a_participant_who_gets_the_public_replies_until_uncc(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    notice = notices["alice@example.com"]

    agent_replies(desk, notice, "#cc Dave@Acme.test\n\nLooping in your colleague.")

    assert "dave@acme.test" in desk.ticket(ref)["participants"]
    assert set(to_of(one_to(desk.sent(), CAROL))) == {CAROL, "dave@acme.test"}

    agent_replies(desk, notice, "The part has shipped.")

    assert set(to_of(one_to(desk.sent(), CAROL))) == {CAROL, "dave@acme.test"}

    agent_replies(desk, notice, "#uncc dave@acme.test\n\nJust between us now.")

    assert desk.ticket(ref)["participants"] == [CAROL]
    assert to_of(one_to(desk.sent(), CAROL)) == [CAROL]
    assert [e["data"] for e in events_of(desk.ticket(ref), "uncc")] == [
        {"address": "dave@acme.test"}
    ]


def test_cc_of_one_of_the_desks_own_addresses_sends_the_desk_nothing(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#cc billing@example.com\n\nHello")

    assert "billing@example.com" not in desk.ticket(ref)["participants"]
    assert mails_to(desk.sent(), "billing@example.com") == []


def test_watch_and_unwatch_are_recorded(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)

    with unit_of_work(desk.app.engine) as session:
        assert len(session.exec(select(Watcher)).all()) == 1
    assert events_of(desk.ticket(ref), "watch")[0]["data"] == {"agent": "bob@example.com"}

    agent_replies(desk, notices["bob@example.com"], "#unwatch", sender=BOB)

    with unit_of_work(desk.app.engine) as session:
        assert session.exec(select(Watcher)).all() == []


def test_a_watcher_hears_of_customer_replies_on_a_ticket_someone_else_has(desk: Desk) -> None:
    ref, notices = customer_writes(desk, message_id="m1@acme.test")
    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)
    agent_replies(desk, notices["alice@example.com"], "#assign me")
    desk.sent()

    desk.receives(mail(subject=f"Re: [{ref}] Printer on fire", body="Now it smokes."))

    sent = desk.sent()
    assert len(mails_to(sent, "alice@example.com")) == 1
    assert len(mails_to(sent, "bob@example.com")) == 1


def test_an_assignment_notice_reaches_the_assignee_with_their_own_signed_address(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#assign bob")

    sent = desk.sent()
    notice = one_to(sent, "bob@example.com")
    assert str(notice["Subject"]) == f"[{ref}] Assigned to you: Printer on fire"
    assert f"Alice assigned ticket {ref} to you." in body_of(notice)
    assert reply_to_of(notice) == signed_address(
        desk_address="support@example.com",
        ref=ref,
        secret=desk.app.desk.secret,
        role=agent_role("bob@example.com"),
    )
    assert mails_to(sent, "alice@example.com") == []  # she made the change
    assert mails_to(sent, CAROL) == []


def test_a_watcher_hears_who_a_ticket_was_assigned_to(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)

    agent_replies(desk, notices["alice@example.com"], "#assign me")

    [notice] = desk.sent()
    assert to_of(notice) == ["bob@example.com"]
    assert str(notice["Subject"]) == f"[{ref}] Assigned to Alice: Printer on fire"
    assert f"Alice assigned ticket {ref} to Alice." in body_of(notice)


def test_a_watcher_who_assigns_the_ticket_is_not_told_of_it(desk: Desk) -> None:
    _, notices = customer_writes(desk)
    agent_replies(desk, notices["bob@example.com"], "#watch", sender=BOB)

    agent_replies(desk, notices["bob@example.com"], "#assign alice", sender=BOB)

    assert [to_of(m) for m in desk.sent()] == [["alice@example.com"]]


@pytest.mark.parametrize(
    ("command", "status", "subject"),
    [
        (
            "#resolve",
            "resolved",
            "Resolved: Printer on fire - how did we do?",
        ),  # the rating request
        ("#close", "closed", "Closed: Printer on fire"),
    ],
)
def test_resolving_or_closing_without_text_sends_the_customer_the_status_mail(
    desk: Desk, command: str, status: str, subject: str
) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], command)

    [told] = mails_to(desk.sent(), CAROL)
    assert str(told["Subject"]) == f"[{ref}] {subject}"
    assert f"{ref}" in body_of(told) and status in body_of(told)
    assert desk.ticket(ref)["status"] == status


@pytest.mark.parametrize(
    ("command", "status", "says"),
    [
        ("#resolve", "resolved", "We have marked this request as resolved."),
        ("#close", "closed", "This request is now closed."),
    ],
)
def test_resolving_or_closing_with_a_reply_sends_the_customer_one_mail(
    desk: Desk, command: str, status: str, says: str
) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], f"{command}\n\nThe new fuser is in.")

    [told] = mails_to(desk.sent(), CAROL)
    text = body_of(told)
    assert text.startswith("The new fuser is in.")
    assert text.index("The new fuser is in.") < text.index(says)
    assert str(told["Subject"]) == f"Re: [{ref}] Printer on fire"
    assert desk.ticket(ref)["status"] == status


def test_a_resolving_note_tells_the_customer_nothing(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["alice@example.com"], "#resolve\n#note\n\nFixed on site.")

    assert mails_to(desk.sent(), CAROL) == []
    assert desk.ticket(ref)["status"] == "resolved"


def test_tag_and_untag(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    notice = notices["alice@example.com"]

    agent_replies(desk, notice, "#tag VIP hardware\n#tag printer")
    assert desk.ticket(ref)["tags"] == ["hardware", "printer", "vip"]

    agent_replies(desk, notice, "#untag vip printer")
    assert desk.ticket(ref)["tags"] == ["hardware"]


def test_an_agent_may_move_a_ticket_out_of_their_queue_but_not_act_on_it_after(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(desk)
    notice = notices["bob@example.com"]

    moved = agent_replies(desk, notice, "#queue billing", sender=BOB)

    assert moved.outcome == "appended"
    assert desk.ticket(ref)["queue"] == "billing"
    desk.sent()

    refused = agent_replies(desk, notice, "#priority high\n\nI'll take it.", sender=BOB)

    assert refused.outcome == "rejected"
    error = one_to(desk.sent(), "bob@example.com")
    assert f"you may not act on {ref} (queue billing)" in body_of(error)
    ticket = desk.ticket(ref)
    assert (ticket["priority"], agent_messages(ticket)) == ("normal", [])


def test_an_agent_may_not_act_on_a_ticket_of_another_queue(desk: Desk) -> None:
    ref, notices = customer_writes(desk, to="billing@example.com")
    assert "bob@example.com" not in notices
    bobs_address = signed_address(
        desk_address="support@example.com",
        ref=ref,
        secret=desk.app.desk.secret,
        role=agent_role("bob@example.com"),
    )

    refused = desk.receives(
        mail(sender=BOB, to=bobs_address, subject=f"Re: [{ref}]", body="#resolve\n\nDone.")
    )

    assert refused.outcome == "rejected"
    sent = desk.sent()
    assert mails_to(sent, CAROL) == []
    assert f"you may not act on {ref} (queue billing)" in body_of(one_to(sent, "bob@example.com"))
    assert desk.ticket(ref)["status"] == "new"


# --- starting a ticket by mail -----------------------------------------------------------------


def compose_address(desk: Desk, agent: str = "alice@example.com") -> str:
    return signed_address(
        desk_address="support@example.com",
        ref="TKT-0",
        secret=desk.app.desk.secret,
        role=agent_role(agent),
    )


def test_an_agent_starts_a_ticket_for_a_customer(desk: Desk) -> None:
    outcome = desk.receives(
        mail(
            sender=ALICE,
            to=compose_address(desk),
            subject="Your invoice",
            body="#to Customer@Example.org\n#priority high\n\nYour invoice is attached.",
        )
    )

    assert outcome.outcome == "created" and outcome.ticket is not None
    ticket = desk.ticket(outcome.ticket)
    assert (ticket["requester"], ticket["priority"], ticket["subject"]) == (
        "customer@example.org",
        "high",
        "Your invoice",
    )
    [started] = mails_to(desk.sent(), "customer@example.org")
    assert body_of(started).startswith("Your invoice is attached.")
    assert "#to" not in body_of(started) and "#priority" not in body_of(started)
    assert f"[{outcome.ticket}]" in str(started["Subject"])


def test_the_first_mail_of_a_ticket_an_agent_started_is_no_reply(desk: Desk) -> None:
    outcome = desk.receives(
        mail(
            sender=ALICE,
            to=compose_address(desk),
            subject="Your invoice",
            message_id="start@example.com",
            body="#to customer@example.org\n\nYour invoice is attached.",
        )
    )

    [started] = mails_to(desk.sent(), "customer@example.org")
    assert str(started["Subject"]) == f"[{outcome.ticket}] Your invoice"
    assert started["In-Reply-To"] is None and started["References"] is None

    desk.receives(
        mail(
            sender="customer@example.org",
            to=reply_to_of(started),
            subject=f"Re: {started['Subject']}",
            in_reply_to=str(started["Message-ID"]).strip("<>"),
            body="Thanks, paid.",
        )
    )
    notice = one_to(desk.sent(), "alice@example.com")
    agent_replies(desk, notice, "Received, thank you.")

    [answer] = mails_to(desk.sent(), "customer@example.org")
    assert str(answer["Subject"]) == f"Re: [{outcome.ticket}] Your invoice"


def test_an_agent_mail_to_the_compose_address_without_to_is_refused(desk: Desk) -> None:
    outcome = desk.receives(
        mail(sender=ALICE, to=compose_address(desk), subject="Hello", body="Hello there.")
    )

    assert (outcome.outcome, outcome.ticket) == ("rejected", None)
    sent = desk.sent()
    error = one_to(sent, "alice@example.com")
    assert "exactly one #to" in body_of(error)
    assert len(sent) == 1
    with unit_of_work(desk.app.engine) as session:
        assert session.exec(select(Ticket)).all() == []


@pytest.mark.parametrize("bad_line", ["#priority extreme", "#queue nowhere"])
def test_a_bad_command_when_starting_a_ticket_creates_nothing(desk: Desk, bad_line: str) -> None:
    outcome = desk.receives(
        mail(
            sender=ALICE,
            to=compose_address(desk),
            subject="Your invoice",
            body=f"#to customer@example.org\n{bad_line}\n\nYour invoice is attached.",
        )
    )

    assert (outcome.outcome, outcome.ticket) == ("rejected", None)
    sent = desk.sent()
    assert mails_to(sent, "customer@example.org") == []
    assert bad_line in body_of(one_to(sent, "alice@example.com"))
    with unit_of_work(desk.app.engine) as session:
        assert session.exec(select(Ticket)).all() == []


def test_an_agent_cannot_start_a_ticket_for_the_desk_itself(desk: Desk) -> None:
    outcome = desk.receives(
        mail(sender=ALICE, to=compose_address(desk), body="#to support@example.com\n\nHello")
    )

    assert outcome.outcome == "rejected"
    assert mails_to(desk.sent(), "support@example.com") == []
