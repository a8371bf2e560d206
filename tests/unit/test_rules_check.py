"""rules_check: a mail a stage stops, or one the rules never see, says so; nothing is written
(a read-only unit of work on either database refuses writes or rolls them back)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from maildesk.app import App
from maildesk.db import read_only_unit
from maildesk.pipeline.rules_check import check_mail, work_of
from tests.mails import mail


def test_a_blacklisted_mail_is_stopped_before_the_rules(app: App) -> None:
    with read_only_unit(app.engine) as session:
        found = check_mail(session, app.desk, work_of(mail(sender="spammer@example.net")))
    assert found["stopped"] is not None and found["stopped"].startswith("blacklist: ")
    assert found["rules"] == [] and found["decision"] is None


def test_without_rules_a_new_mail_keeps_its_route_and_is_acknowledged(app: App) -> None:
    with read_only_unit(app.engine) as session:
        found = check_mail(session, app.desk, work_of(mail(to="billing@example.com")))
    assert (found["event"], found["queue"], found["ack"], found["rules"]) == (
        "new",
        "billing",
        True,
        [],
    )


def test_a_write_in_a_read_only_unit_is_refused_or_never_kept(app: App) -> None:
    """PostgreSQL refuses it (READ ONLY); SQLite's deferred transaction is rolled back."""
    with (
        pytest.raises(DBAPIError, match="read-only")
        if app.engine.dialect.name == "postgresql"
        else nullcontext(),
        read_only_unit(app.engine) as session,
    ):
        session.execute(text("UPDATE agent SET name = 'changed'"))
    with app.engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM agent")).scalars().all()
    assert names and "changed" not in names
