"""The remembered IMAP position of each mailbox: UIDVALIDITY and the last UID taken."""

from __future__ import annotations

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.services.mailbox_state import load_state, save_state


def test_a_mailbox_never_polled_has_no_position(app: App) -> None:
    with unit_of_work(app.engine) as session:
        assert load_state(session, name="support") is None


def test_the_last_saved_position_survives_the_transaction_per_mailbox(app: App) -> None:
    with unit_of_work(app.engine) as session:
        save_state(session, name="support", uidvalidity=7, last_uid=10)
        save_state(session, name="billing", uidvalidity=3, last_uid=1)
    with unit_of_work(app.engine) as session:
        save_state(session, name="support", uidvalidity=8, last_uid=2)  # the folder was rebuilt

    with unit_of_work(app.engine) as session:
        assert load_state(session, name="support") == (8, 2)
        assert load_state(session, name="billing") == (3, 1)
