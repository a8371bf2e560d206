"""The database: it connects, its schema is at the newest migration, and each agent's stored
load (least-loaded assignment reads it) is the number of their tickets in work."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from maildesk.config import Settings
from maildesk.db import current_revision, first_line, head_revision, make_engine, read_only_unit
from maildesk.doctor.findings import Finding, Probe, error, ok, warning
from maildesk.services.agent_loads import load_drift

NAME = "database"
NAMED = 3  # drifted agents named in the finding; the rest are counted


def check(settings: Settings, probe: Probe) -> list[Finding]:
    url = settings.database_url()
    engine = make_engine(url)
    try:
        current = current_revision(engine)
        head = head_revision()
        if current != head:
            at = f"schema at {current or 'nothing'}, expected {head}"
            return [error(NAME, at, "run maildesk db upgrade")]
        return [_loads(engine, f"schema at {head}")]
    except DBAPIError as exc:
        found = f"cannot connect to {engine.url.render_as_string()}: {first_line(exc.orig)}"
        return [error(NAME, found, "check [database] url, and that the server runs")]
    finally:
        engine.dispose()


def _loads(engine: Engine, schema: str) -> Finding:
    with read_only_unit(engine) as session:
        drift = load_drift(session)
    if not drift:
        return ok(NAME, f"connected, {schema}")
    named = "; ".join(found.line() for found in drift[:NAMED])
    more = f"; and {len(drift) - NAMED} more" if len(drift) > NAMED else ""
    found = f"{schema}, but agent loads differ from their tickets: {named}{more}"
    return warning(NAME, found, "run maildesk db recount")
