"""The service catalogue: which service a name means, and what a ticket given one takes."""

from __future__ import annotations

from typing import Any

from maildesk.config import ServiceSettings, Settings


def find_service(settings: Settings, *, name: str) -> ServiceSettings | None:
    """The service of this name, in any case (agents type it; config check keeps names unique)."""
    key = name.strip().lower()
    return next((s for s in settings.services if s.name.lower() == key), None)


def service_fields(service: ServiceSettings, *, new_ticket: bool = False) -> dict[str, Any]:
    """The fields a ticket given this service takes: the service, its queue and its type.

    A new ticket also starts at the service's priority (a rule that sets one overrides it by
    setting it after); an existing ticket keeps the priority it was triaged to.
    """
    fields: dict[str, Any] = {"service": service.name, "queue": service.queue, "type": service.type}
    if new_ticket:
        fields["priority"] = service.priority
    return fields
