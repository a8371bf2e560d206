"""IMAP pollers for the configured mailboxes, with their UID cursors kept in the database."""

from __future__ import annotations

import asyncio

from maildesk.app import App, async_accept
from maildesk.config import ImapSettings
from maildesk.db import unit_of_work
from maildesk.errors import ConfigError
from maildesk.ingest.imap import ImapCursor, ImapMailboxSettings, ImapPoller
from maildesk.services.mailbox_state import load_state, save_state


class DatabaseImapState:
    """ImapStateStore backed by the `mailboxstate` table (blocking work in a thread)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _load(self, name: str) -> ImapCursor | None:
        with unit_of_work(self.app.engine) as session:
            found = load_state(session, name=name)
        return ImapCursor(*found) if found else None

    def _save(self, name: str, uidvalidity: int, last_uid: int) -> None:
        with unit_of_work(self.app.engine) as session:
            save_state(session, name=name, uidvalidity=uidvalidity, last_uid=last_uid)

    async def load(self, mailbox_name: str) -> ImapCursor | None:
        return await asyncio.to_thread(self._load, mailbox_name)

    async def save(self, mailbox_name: str, uidvalidity: int, last_uid: int) -> None:
        await asyncio.to_thread(self._save, mailbox_name, uidvalidity, last_uid)


def mailbox_settings(config: ImapSettings) -> ImapMailboxSettings:
    password = config.resolved_password()
    if not password:
        raise ConfigError(f"imap {config.name}: no password (set password or password_env)")
    try:
        return ImapMailboxSettings(
            name=config.name,
            host=config.host,
            username=config.username,
            password=password,
            port=config.port,
            tls=config.tls,
            starttls=config.starttls,
            folder=config.folder,
            processed_folder=config.processed_folder,
            poll_seconds=config.poll_seconds,
            timeout_seconds=config.timeout_seconds,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def imap_pollers(app: App) -> list[ImapPoller]:
    state = DatabaseImapState(app)
    accept = async_accept(app)
    observer = app.desk.observer
    return [
        ImapPoller(mailbox_settings(config), accept=accept, state=state, observer=observer)
        for config in app.settings.imap
    ]
