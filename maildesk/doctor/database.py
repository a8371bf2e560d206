"""The database: it connects, and its schema is at the newest migration."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from maildesk.config import Settings
from maildesk.db import current_revision, first_line, head_revision, make_engine
from maildesk.doctor.findings import Finding, Probe, error, ok

NAME = "database"


def check(settings: Settings, probe: Probe) -> list[Finding]:
    url = settings.database_url()
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except DBAPIError as exc:
        found = f"cannot connect to {engine.url.render_as_string()}: {first_line(exc.orig)}"
        return [error(NAME, found, "check [database] url, and that the server runs")]
    finally:
        engine.dispose()
    head = head_revision()
    if current != head:
        at = f"schema at {current or 'nothing'}, expected {head}"
        return [error(NAME, at, "run maildesk db upgrade")]
    return [ok(NAME, f"connected, schema at {head}")]
