"""`maildesk ticket do` and `maildesk agent …`: the agent command language from a shell.

In-process CLI runs against a SQLite desk configured in tmp_path (the CLI is the same on
either database); a customer mail is ingested first so there is a ticket to act on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import Run, assert_one_line_error, ingest, maildesk
from tests.mails import mail

CONFIG = """\
[desk]
name = "Example Support"
address = "support@example.com"
secret = "s3cret"

[database]
url = "sqlite:///var/maildesk.db"

[[queues]]
name = "general"
addresses = ["support@example.com"]

[[queues]]
name = "billing"
addresses = ["billing@example.com"]

[[agents]]
email = "alice@example.com"
name = "Alice"
role = "supervisor"
queues = ["general", "billing"]

[[agents]]
email = "bob@example.com"
name = "Bob"
queues = ["general"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(CONFIG)
    assert maildesk("--config", path, "db", "upgrade").code == 0
    return path


@pytest.fixture
def ref(config: Path) -> str:
    """Carol's ticket, as it stands before anyone acts on it."""
    outcome = ingest(config, mail(message_id="m1@acme.test"))
    assert outcome["outcome"] == "created"
    return str(outcome["ticket"])


def show(config: Path, ref: str) -> dict[str, Any]:
    run = maildesk("--config", config, "ticket", "show", ref, "--json")
    assert run.code == 0, run.err
    return run.json()


def to_customer(config: Path) -> list[dict[str, Any]]:
    """Outbound mail for Carol that is not the automatic acknowledgement."""
    items = maildesk("--config", config, "outbox", "list", "--json").json()
    return [i for i in items if "carol@acme.test" in i["recipients"] and i["kind"] != "ack"]


def agent_messages(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in ticket["messages"] if m["role"] == "agent"]


FIELDS = ("status", "priority", "assignee", "queue", "tags")


# --- ticket do ---------------------------------------------------------------------------------


def test_ticket_do_applies_every_command_as_the_agent_from_the_cli(config: Path, ref: str) -> None:
    run = maildesk(
        "--config", config, "ticket", "do", ref, "#assign bob", "#priority high", "tag vip",
        "--as", "alice@example.com",
    )  # fmt: skip

    assert (run.code, run.err) == (0, "")
    assert run.out == f"{ref}: 3 command(s) applied\n"
    ticket = show(config, ref)
    assert (ticket["assignee"], ticket["priority"], ticket["tags"]) == (
        "bob@example.com",
        "high",
        ["vip"],
    )
    changes = [e for e in ticket["events"] if e["type"] in ("assign", "priority", "tag")]
    assert [e["type"] for e in changes] == ["assign", "priority", "tag"]
    assert {(e["actor"], e["source"]) for e in changes} == {("alice@example.com", "cli")}
    assert agent_messages(ticket) == []
    assert to_customer(config) == []


def test_ticket_do_with_bad_lines_names_each_and_changes_nothing(config: Path, ref: str) -> None:
    before = show(config, ref)

    run = maildesk(
        "--config", config, "ticket", "do", ref,
        "#status resolved", "#priority extreme", "#queue nowhere", "#assign me",
        "--as", "alice@example.com", "--message", "Refund approved.",
    )  # fmt: skip

    assert run.code == 1
    lines = run.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("maildesk: #priority extreme: unknown priority")
    assert lines[1] == "maildesk: #queue nowhere: no such queue: 'nowhere'"
    after = show(config, ref)
    assert {f: after[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    assert agent_messages(after) == []
    assert to_customer(config) == []


def test_ticket_do_message_is_relayed_to_the_customer(config: Path, ref: str) -> None:
    run = maildesk(
        "--config", config, "ticket", "do", ref, "#status pending",
        "--as", "alice@example.com", "--message", "We ordered a new fuser.",
    )  # fmt: skip

    assert run.code == 0, run.err
    assert run.out == f"{ref}: 1 command(s) applied, message relayed\n"
    [relayed] = to_customer(config)
    assert (relayed["kind"], relayed["ticket"], relayed["state"]) == ("agent-reply", ref, "queued")
    ticket = show(config, ref)
    assert ticket["status"] == "pending"
    [reply] = agent_messages(ticket)
    assert (reply["direction"], reply["visibility"], reply["text"]) == (
        "out",
        "public",
        "We ordered a new fuser.",
    )
    assert reply["author"] == "alice@example.com"
    raw = maildesk("--config", config, "outbox", "show", str(relayed["id"]), "--raw").out
    assert "We ordered a new fuser." in raw and "#status" not in raw


def test_ticket_do_message_is_text_even_when_it_starts_with_a_hash(config: Path, ref: str) -> None:
    run = maildesk(
        "--config", config, "ticket", "do", ref, "#status pending",
        "--as", "alice@example.com", "--message", "#TeamSupport thanks you for waiting.",
    )  # fmt: skip

    assert run.code == 0, run.err
    [reply] = agent_messages(show(config, ref))
    assert reply["text"] == "#TeamSupport thanks you for waiting."


def test_ticket_do_message_file_with_a_macro(config: Path, ref: str, tmp_path: Path) -> None:
    text = tmp_path / "reply.txt"
    text.write_text("Thanks, Alice\n", encoding="utf-8")

    run = maildesk(
        "--config", config, "ticket", "do", ref, "#macro need-details",
        "--as", "alice@example.com", "--message-file", text,
    )  # fmt: skip

    assert run.code == 0, run.err
    [reply] = agent_messages(show(config, ref))
    assert reply["text"].startswith("Hello Carol Customer,")
    assert reply["text"].endswith("Thanks, Alice")
    assert len(to_customer(config)) == 1


def test_ticket_do_note_with_a_message_stays_internal(config: Path, ref: str) -> None:
    run = maildesk(
        "--config", config, "ticket", "do", ref, "#note",
        "--as", "alice@example.com", "--message", "Old firmware, see KB-12.",
    )  # fmt: skip

    assert run.code == 0, run.err
    assert "relayed" not in run.out
    ticket = show(config, ref)
    [note] = agent_messages(ticket)
    assert (note["visibility"], note["text"]) == ("internal", "Old firmware, see KB-12.")
    assert to_customer(config) == []
    assert ticket["status"] == "new"
    shown = maildesk("--config", config, "ticket", "show", ref).out
    assert "alice@example.com  (INTERNAL NOTE)" in shown and "┆ Old firmware, see KB-12." in shown


def test_ticket_do_as_an_agent_of_another_queue_is_refused(config: Path, tmp_path: Path) -> None:
    billing = ingest(config, mail(to="billing@example.com", message_id="b1@acme.test"))["ticket"]

    run = maildesk(
        "--config", config, "ticket", "do", billing, "#resolve", "--as", "bob@example.com"
    )

    assert run.code == 1
    assert f"you may not act on {billing} (queue billing)" in run.err
    assert show(config, billing)["status"] == "new"


def test_ticket_do_merge_closes_the_source_into_its_target(config: Path, ref: str) -> None:
    other = ingest(config, mail(sender="dave@acme.test", subject="Also", message_id="d@acme.test"))

    run = maildesk(
        "--config", config, "ticket", "do", other["ticket"], f"#merge {ref}",
        "--as", "alice@example.com",
    )  # fmt: skip

    assert run.code == 0, run.err
    source, target = show(config, other["ticket"]), show(config, ref)
    assert source["status"] == "closed" and source["messages"] == []
    assert [m["author"] for m in target["messages"]] == ["carol@acme.test", "dave@acme.test"]
    assert "dave@acme.test" in target["participants"]


def do(config: Path, ref: str, agent: str, *lines: str, message: str | None = None) -> Run:
    extra = ("--message", message) if message is not None else ()
    return maildesk("--config", config, "ticket", "do", ref, *lines, "--as", agent, *extra)


def events_of(ticket: dict[str, Any], type: str) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == type]


def delivered_to(config: Path, address: str) -> list[EmailMessage]:
    """Mail the outbox delivered into the embedded Maildir for this address."""
    folder = config.parent / "var" / "sent" / "new"
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.iterdir())
    ]
    return [m for m in mails if address in str(m["To"])]  # type: ignore[misc]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_ticket_do_snooze_then_tick_wakes_the_ticket_and_tells_its_agents(
    config: Path, ref: str
) -> None:
    run = do(config, ref, "alice@example.com", "#snooze 2h")

    assert run.code == 0, run.err
    snoozed = show(config, ref)
    assert snoozed["status"] == "pending"
    [event] = events_of(snoozed, "snooze")
    until = datetime.fromisoformat(event["data"]["until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=2)

    early = maildesk("--config", config, "tick", "--at", (until - timedelta(minutes=1)).isoformat())
    assert early.code == 0, early.err
    assert show(config, ref)["status"] == "pending"

    late = maildesk("--config", config, "tick", "--at", (until + timedelta(minutes=1)).isoformat())

    assert late.code == 0, late.err
    woken = show(config, ref)
    assert woken["status"] == "open"
    assert [e["actor"] for e in events_of(woken, "snooze-ended")] == ["maildesk"]
    for agent in ("alice@example.com", "bob@example.com"):  # unassigned: the queue's agents
        [wakeup] = [m for m in delivered_to(config, agent) if "Snooze ended" in str(m["Subject"])]
        assert f"the snooze on ticket {ref} ended" in text_of(wakeup)


def test_ticket_do_snooze_to_a_date_reads_it_in_the_desks_time_zone(config: Path, ref: str) -> None:
    config.write_text(
        CONFIG.replace('secret = "s3cret"', 'secret = "s3cret"\ntimezone = "Asia/Tokyo"')
    )
    day = (datetime.now(UTC) + timedelta(days=3)).date()

    run = do(config, ref, "alice@example.com", f"#snooze {day.isoformat()}T09:00")

    assert run.code == 0, run.err
    [event] = events_of(show(config, ref), "snooze")
    assert datetime.fromisoformat(event["data"]["until"]) == datetime(
        day.year, day.month, day.day, 0, 0, tzinfo=UTC
    )  # 09:00 in Tokyo


def test_ticket_do_time_logs_the_agents_minutes(config: Path, ref: str) -> None:
    run = do(config, ref, "bob@example.com", "#time 90m", "#time 1h")

    assert run.code == 0, run.err
    logged = events_of(show(config, ref), "time")
    assert [(e["actor"], e["data"]) for e in logged] == [
        ("bob@example.com", {"minutes": 90}),
        ("bob@example.com", {"minutes": 60}),
    ]
    assert to_customer(config) == []


def test_ticket_do_closes_with_a_reason_and_an_article_and_show_tells_them(
    config: Path, ref: str
) -> None:
    run = do(config, ref, "bob@example.com", "#time 30m", "#close duplicate of TKT-7", "kb KB-7")

    assert run.code == 0, run.err
    ticket = show(config, ref)
    lifecycle = ticket["lifecycle"]
    assert ticket["status"] == "closed"
    assert (lifecycle["close_reason"], lifecycle["kb"]) == ("duplicate of TKT-7", "KB-7")
    assert (lifecycle["time_spent_minutes"], lifecycle["reopened"]) == (30, 0)
    assert lifecycle["closed_at"].endswith("Z") and lifecycle["next_contact_at"] is None
    assert [(e["actor"], e["data"]) for e in events_of(ticket, "reason")] == [
        ("bob@example.com", {"reason": "duplicate of TKT-7"})
    ]
    text = maildesk("--config", config, "ticket", "show", ref).out.splitlines()
    assert "  lifecycle:" in text
    assert "    close_reason: duplicate of TKT-7" in text and "    kb: KB-7" in text
    assert "    next_contact_at: -" in text


def test_ticket_do_reason_without_text_is_a_bad_line_and_changes_nothing(
    config: Path, ref: str
) -> None:
    run = do(config, ref, "alice@example.com", "#resolve", "#reason")

    assert run.code == 1
    assert run.err == "maildesk: #reason: #reason needs an argument\n"
    assert show(config, ref)["status"] == "new"


def test_ticket_do_escalate_moves_up_a_level_and_tells_only_that_level(
    config: Path, ref: str
) -> None:
    maildesk("--config", config, "agent", "add", "dana@example.com", "--level", "2",
             "--queue", "general")  # fmt: skip
    before = {a: len(notified(config, a)) for a in ("alice@example.com", "bob@example.com")}

    run = do(config, ref, "bob@example.com", "#escalate")

    assert run.code == 0, run.err
    ticket = show(config, ref)
    assert [(e["actor"], e["data"]) for e in events_of(ticket, "escalate")] == [
        ("bob@example.com", {"level": 2})
    ]
    [notice] = notified(config, "dana@example.com")
    raw = maildesk("--config", config, "outbox", "show", str(notice["id"]), "--raw").out
    assert ref in raw and "Escalated to level 2:" in raw
    assert {a: len(notified(config, a)) for a in before} == before
    assert to_customer(config) == []


def test_ticket_do_escalate_with_no_one_higher_is_a_bad_line_and_changes_nothing(
    config: Path, ref: str
) -> None:
    maildesk(
        "--config", config, "agent", "add", "dana@example.com", "--level", "2", "--queue", "billing"
    )  # fmt: skip: a higher level, but not in this queue
    before = show(config, ref)

    run = do(config, ref, "alice@example.com", "#priority high", "#escalate")

    assert run.code == 1
    assert run.err == (
        "maildesk: #escalate: no agent at a higher support level than 1 "
        "is available in queue 'general'\n"
    )
    after = show(config, ref)
    assert {f: after[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    assert events_of(after, "escalate") == []
    assert notified(config, "dana@example.com") == []


def test_ticket_do_assign_me_makes_the_caller_the_assignee(config: Path, ref: str) -> None:
    run = do(config, ref, "bob@example.com", "#assign me")

    assert run.code == 0, run.err
    ticket = show(config, ref)
    assert ticket["assignee"] == "bob@example.com"
    assert [(e["actor"], e["data"]) for e in events_of(ticket, "assign")] == [
        ("bob@example.com", {"to": "bob@example.com"})
    ]
    assert [i["kind"] for i in notified(config, "bob@example.com")] == ["notify"]  # the new one


def test_ticket_do_cc_adds_a_participant_who_gets_public_replies(config: Path, ref: str) -> None:
    run = do(config, ref, "alice@example.com", "#cc dave@acme.test", message="Looping in Dave.")

    assert run.code == 0, run.err
    ticket = show(config, ref)
    assert "dave@acme.test" in ticket["participants"]
    assert [e["data"] for e in events_of(ticket, "cc")] == [{"address": "dave@acme.test"}]
    [relayed] = to_customer(config)
    assert "dave@acme.test" in relayed["recipients"]


def test_ticket_do_watch_brings_every_customer_reply_to_the_watcher(config: Path, ref: str) -> None:
    assert do(config, ref, "alice@example.com", "#assign alice@example.com").code == 0
    assert do(config, ref, "bob@example.com", "#watch").code == 0
    assert [e["actor"] for e in events_of(show(config, ref), "watch")] == ["bob@example.com"]
    before = len(notified(config, "bob@example.com"))

    ingest(config, mail(subject=f"Re: [{ref}] Printer on fire", message_id="m2@acme.test",
                        in_reply_to="m1@acme.test", body="Still burning."))  # fmt: skip

    assert len(notified(config, "bob@example.com")) == before + 1


def test_ticket_do_queue_moves_the_ticket_out_of_an_agents_reach(config: Path, ref: str) -> None:
    run = do(config, ref, "alice@example.com", "#queue billing")

    assert run.code == 0, run.err
    ticket = show(config, ref)
    assert ticket["queue"] == "billing"
    assert [e["data"] for e in events_of(ticket, "queue")] == [{"from": "general", "to": "billing"}]
    refused = do(config, ref, "bob@example.com", "#close")
    assert refused.code == 1 and f"you may not act on {ref} (queue billing)" in refused.err


def test_ticket_do_as_someone_who_is_no_agent_is_a_user_error(config: Path, ref: str) -> None:
    run = maildesk("--config", config, "ticket", "do", ref, "#close", "--as", "eve@evil.test")

    assert assert_one_line_error(run) == "maildesk: no agent eve@evil.test"
    assert show(config, ref)["status"] == "new"


def test_ticket_do_on_an_unknown_ticket_is_a_user_error(config: Path) -> None:
    run = maildesk(
        "--config", config, "ticket", "do", "TKT-9", "#close", "--as", "alice@example.com"
    )

    assert assert_one_line_error(run) == "maildesk: no ticket TKT-9"


def test_ticket_do_with_message_and_message_file_is_a_user_error(
    config: Path, ref: str, tmp_path: Path
) -> None:
    text = tmp_path / "reply.txt"
    text.write_text("x")

    run = maildesk(
        "--config", config, "ticket", "do", ref, "#close", "--as", "alice@example.com",
        "--message", "y", "--message-file", text,
    )  # fmt: skip

    assert_one_line_error(run)
    assert show(config, ref)["status"] == "new"


# --- agents ------------------------------------------------------------------------------------


def agents(config: Path) -> dict[str, dict[str, Any]]:
    run = maildesk("--config", config, "agent", "list", "--json")
    assert run.code == 0, run.err
    return {a["email"]: a for a in run.json()}


def test_agent_add_list_set_remove_round_trip(config: Path) -> None:
    added = maildesk(
        "--config", config, "agent", "add", "Dana@Example.com", "--name", "Dana",
        "--level", "2", "--queue", "billing",
    )  # fmt: skip
    assert (added.code, added.out) == (0, "added agent dana@example.com\n")
    dana = agents(config)["dana@example.com"]
    assert {k: dana[k] for k in ("name", "role", "level", "queues", "away", "active")} == {
        "name": "Dana",
        "role": "agent",
        "level": 2,
        "queues": ["billing"],
        "away": False,
        "active": True,
    }
    assert dana["compose_address"].startswith("support+TKT-0.")
    assert set(agents(config)) >= {"alice@example.com", "bob@example.com"}

    away = maildesk("--config", config, "agent", "set", "dana@example.com", "--away")
    assert (away.code, away.out) == (0, "updated agent dana@example.com\n")
    assert agents(config)["dana@example.com"]["away"] is True
    maildesk("--config", config, "agent", "set", "dana@example.com", "--back")
    assert agents(config)["dana@example.com"]["away"] is False

    moved = maildesk(
        "--config", config, "agent", "set", "dana@example.com", "--queue", "general",
        "--queue", "billing",
    )  # fmt: skip
    assert moved.code == 0, moved.err
    assert agents(config)["dana@example.com"]["queues"] == ["general", "billing"]
    assert agents(config)["dana@example.com"]["level"] == 2  # untouched by set

    removed = maildesk("--config", config, "agent", "remove", "dana@example.com")
    assert (removed.code, removed.out) == (0, "removed agent dana@example.com\n")
    assert agents(config)["dana@example.com"]["active"] is False


def notified(config: Path, agent: str) -> list[dict[str, Any]]:
    items = maildesk("--config", config, "outbox", "list", "--json").json()
    return [i for i in items if agent in i["recipients"] and i["kind"] == "notify"]


def test_a_configured_agent_goes_away_and_comes_back_from_the_cli(config: Path) -> None:
    away = maildesk("--config", config, "agent", "set", "bob@example.com", "--away")

    assert (away.code, away.out) == (0, "updated agent bob@example.com\n")
    assert agents(config)["bob@example.com"]["away"] is True  # the sync at start keeps it
    ingest(config, mail(message_id="while-away@acme.test"))
    assert notified(config, "bob@example.com") == []
    assert len(notified(config, "alice@example.com")) == 1

    back = maildesk("--config", config, "agent", "set", "bob@example.com", "--back")

    assert back.code == 0, back.err
    assert agents(config)["bob@example.com"]["away"] is False
    ingest(config, mail(sender="dave@acme.test", message_id="back@acme.test"))
    assert len(notified(config, "bob@example.com")) == 1


def test_an_added_agent_can_act_and_a_removed_one_cannot(config: Path, ref: str) -> None:
    maildesk("--config", config, "agent", "add", "dana@example.com", "--queue", "general")
    assert maildesk("--config", config, "ticket", "do", ref, "#assign dana@example.com",
                    "--as", "dana@example.com").code == 0  # fmt: skip
    assert show(config, ref)["assignee"] == "dana@example.com"

    maildesk("--config", config, "agent", "remove", "dana@example.com")

    assert show(config, ref)["assignee"] is None
    run = maildesk("--config", config, "ticket", "do", ref, "#close", "--as", "dana@example.com")
    assert run.code == 1
    assert show(config, ref)["status"] == "new"


@pytest.mark.parametrize(
    ("argv", "key", "wanted"),
    [
        (("agent", "remove", "bob@example.com"), "active", False),
        (("agent", "set", "bob@example.com", "--queue", "billing"), "queues", ["billing"]),
    ],
    ids=["remove", "set --queue"],
)
def test_changing_a_configured_agent_either_sticks_or_is_refused(
    config: Path, argv: tuple[str, ...], key: str, wanted: object
) -> None:
    run = maildesk("--config", config, *argv)

    if run.code == 0:
        assert agents(config)["bob@example.com"][key] == wanted
    else:
        assert_one_line_error(run)


@pytest.mark.parametrize(
    "argv",
    [
        ("agent", "add", "dana@example.com", "--queue", "nowhere"),
        ("agent", "set", "bob@example.com", "--queue", "general"),  # configured: edit the file
        ("agent", "add", "dana@example.com", "--role", "boss"),
        ("agent", "add", "dana@example.com", "--level", "10"),
        ("agent", "add", "not-an-address"),
        ("agent", "add", "bob@example.com"),
        ("agent", "set", "nobody@example.com", "--away"),
        ("agent", "remove", "nobody@example.com"),
    ],
)
def test_agent_changes_that_make_no_sense_are_user_errors(
    config: Path, argv: tuple[str, ...]
) -> None:
    before = agents(config)

    message = assert_one_line_error(maildesk("--config", config, *argv))

    assert agents(config) == before
    if "nowhere" in argv:
        assert "unknown queue 'nowhere'" in message
    if argv[:3] == ("agent", "set", "bob@example.com"):
        assert "configured in the config file" in message
