"""Queueing drafts: several at once in one statement, each row as the outbox item would be
written on its own, in order, with its id; inside `write_together`, written at its end."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import Address
from maildesk.models import OutboxItem
from maildesk.outbound import outbox
from maildesk.outbound.compose import DeskIdentity
from maildesk.outbound.draft import Draft
from maildesk.outbound.outbox import draft_row, enqueue_draft, enqueue_drafts, write_together
from maildesk.outbound.render import SAMPLE_CONTEXTS
from tests.conftest import START

DESK = DeskIdentity(name="Example Support", address="support@example.com")


def to_agent(email: str, *, automatic: bool = False) -> Draft:
    context = SAMPLE_CONTEXTS["notify_new"] | {"agent_name": email}
    return Draft(
        template="notify_new",
        context=context,
        templates_dir=None,
        desk=DESK,
        kind="notify",
        ticket_ref="TKT-42",
        recipients=(Address(email),),
        date=START,
        reply_to=f"support+TKT-42.{email}@example.com",
        automatic=automatic,
    )


def stored(app: App) -> list[OutboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def test_a_drafts_row_holds_every_column_of_an_outbox_item_as_the_model_fills_it() -> None:
    row = draft_row(to_agent("a@example.com", automatic=True), ticket_id=7, now=START)
    fields = {k: v for k, v in row.items() if k not in ("message_id",)}
    model = OutboxItem(message_id=row["message_id"], **fields)

    assert row == model.model_dump(exclude={"id"})
    assert row["rate_key"] == "a@example.com" and row["spec"]["reply_to"].startswith("support+")
    assert row["message_id"].endswith("@example.com")


def test_three_drafts_are_three_rows_in_order_each_with_its_id(app: App) -> None:
    emails = ["a@example.com", "b@example.com", "c@example.com"]
    with unit_of_work(app.engine) as session:
        rows = enqueue_drafts(
            session, drafts=[to_agent(e) for e in emails], ticket_id=None, now=START
        )

    items = stored(app)
    assert [item.id for item in items] == [row["id"] for row in rows]
    assert [item.recipients for item in items] == [[e] for e in emails]
    assert [item.message_id for item in items] == [row["message_id"] for row in rows]
    assert [item.spec for item in items] == [to_agent(e).to_json() for e in emails]
    assert {(item.state, item.attempts, item.next_attempt_at) for item in items} == {
        ("queued", 0, START)
    }


def test_one_draft_is_an_outbox_item_with_its_id(app: App) -> None:
    with unit_of_work(app.engine) as session:
        item = enqueue_draft(session, draft=to_agent("a@example.com"), ticket_id=None, now=START)

    [row] = stored(app)
    assert (item.id, item.message_id, item.recipients) == (row.id, row.message_id, row.recipients)


def test_drafts_queued_inside_write_together_are_written_at_its_end_without_ids(app: App) -> None:
    with unit_of_work(app.engine) as session, write_together(session):
        rows = enqueue_drafts(
            session, drafts=[to_agent("a@example.com")], ticket_id=None, now=START
        )
        rows += enqueue_drafts(
            session, drafts=[to_agent("b@example.com")], ticket_id=None, now=START
        )
        assert session.exec(select(OutboxItem)).all() == []

    assert all("id" not in row for row in rows)
    assert [item.recipients for item in stored(app)] == [["a@example.com"], ["b@example.com"]]


def test_no_drafts_write_nothing(app: App) -> None:
    with unit_of_work(app.engine) as session:
        assert enqueue_drafts(session, drafts=[], ticket_id=None, now=START) == []

    assert stored(app) == []


def queued_to_agents(app: App, emails: list[str]) -> tuple[list[dict[str, Any]], list[OutboxItem]]:
    """A notice to each agent in `emails`, queued in one call: the rows it returned, and the
    outbox as stored."""
    with unit_of_work(app.engine) as session:
        rows = enqueue_drafts(
            session, drafts=[to_agent(e) for e in emails], ticket_id=None, now=START
        )
    return rows, stored(app)


def test_drafts_whose_message_ids_clash_still_get_each_their_own_row_and_id(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "new_message_id", lambda domain: f"same@{domain}")
    emails = ["a@example.com", "b@example.com"]

    rows, items = queued_to_agents(app, emails)

    assert [(item.id, item.recipients) for item in items] == [
        (row["id"], row["recipients"]) for row in rows
    ]
    assert [item.recipients for item in items] == [[e] for e in emails]


def test_more_drafts_than_one_statement_takes_are_written_in_several_in_order(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "ROWS_A_STATEMENT", 2)
    emails = [f"{name}@example.com" for name in "abcde"]

    rows, items = queued_to_agents(app, emails)

    assert [(item.id, item.message_id) for item in items] == [
        (row["id"], row["message_id"]) for row in rows
    ]
    assert [item.recipients for item in items] == [[e] for e in emails]
