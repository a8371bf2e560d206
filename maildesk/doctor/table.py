"""The doctor's checks, in the order they run and print: name → check function."""

from __future__ import annotations

from maildesk.doctor import database, mailboxes, mx, relay, secret, templates
from maildesk.doctor.findings import Check

CHECKS: tuple[tuple[str, Check], ...] = (
    (database.NAME, database.check),
    (secret.NAME, secret.check),
    (templates.NAME, templates.check),
    (mailboxes.NAME, mailboxes.check),
    (relay.NAME, relay.check),
    (mx.NAME, mx.check),
)
