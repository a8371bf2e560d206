"""Queue routing by the desk address a mail was sent to."""

from __future__ import annotations

from collections.abc import Iterable

from maildesk.config import Settings


def choose_queue(settings: Settings, recipients: Iterable[str]) -> str:
    """The first queue whose address (or a `+` subaddress of it) received the mail."""
    queues = settings.effective_queues()
    wanted = []
    for address in recipients:
        local, _, domain = address.lower().partition("@")
        wanted.append(f"{local.split('+', 1)[0]}@{domain}")
    for address in wanted:
        for queue in queues:
            if address in queue.addresses:
                return queue.name
    return queues[0].name
