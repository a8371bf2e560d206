"""Wiring shared by the CLI and the daemon: engine and Desk from settings, accept, process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from maildesk.config import Settings
from maildesk.db import make_engine, require_current_schema, unit_of_work
from maildesk.desk import Desk
from maildesk.errors import ConfigError
from maildesk.files import AttachmentStore
from maildesk.outbound.render import Renderer
from maildesk.services.inbox import Stored, store_raw
from maildesk.services.origin import Accepted, AcceptFn, Origin
from maildesk.services.sync import sync_config
from maildesk.timing.clock import Clock, SystemClock


@dataclass(frozen=True)
class App:
    engine: Engine
    desk: Desk

    @property
    def settings(self) -> Settings:
        return self.desk.settings


def open_app(settings: Settings, *, clock: Clock | None = None, check_schema: bool = True) -> App:
    """Connect to the database (which must be migrated) and sync configured agents and queues."""
    secret = settings.desk.resolved_secret()
    if not secret:
        env = settings.desk.secret_env or "desk.secret_env"
        raise ConfigError(f"desk.secret: not set (set ${env} or desk.secret)")
    engine = make_engine(settings.database_url())
    if check_schema:
        require_current_schema(engine)
        with unit_of_work(engine) as session:
            sync_config(session, settings=settings)
    desk = Desk(
        settings=settings,
        clock=clock or SystemClock(),
        store=AttachmentStore(settings.path(settings.desk.attachments_dir)),
        secrets=(secret, *settings.desk.old_secrets),
        renderer=Renderer(template_override(settings)),
    )
    return App(engine=engine, desk=desk)


def template_override(settings: Settings) -> Path | None:
    directory = settings.outbound.templates_dir
    return settings.path(directory) if directory else None


def accept_raw(app: App, raw: bytes, origin: Origin) -> Stored:
    """Store raw bytes and commit: after this returns, the source may forget the mail."""
    with unit_of_work(app.engine) as session:
        return store_raw(session, raw=raw, origin=origin, now=app.desk.clock.now())


def async_accept(app: App) -> AcceptFn:
    """The AcceptFn transports call: the blocking commit runs in a worker thread."""

    async def accept(raw: bytes, origin: Origin) -> Accepted:
        stored = await asyncio.to_thread(accept_raw, app, raw, origin)
        return Accepted.DUPLICATE if stored.duplicate else Accepted.STORED

    return accept
