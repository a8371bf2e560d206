"""`#service` and `#type`: what the ticket is about, from the `[[services]]` catalogue.

`#service <name>` gives the ticket the service, moves it to the service's queue (the group
responsible for it) and gives it the service's type. Lines apply in order, so a `#queue` or
`#type` after it overrides what the service brought.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.config import ServiceSettings
from maildesk.models import TICKET_TYPES, TicketType
from maildesk.services.catalogue import find_service, service_fields


def _service(ctx: Context, args: tuple[str, ...]) -> ServiceSettings | Refusal:
    service = find_service(ctx.desk.settings, name=args[0])
    if service is None:
        names = ", ".join(s.name for s in ctx.desk.settings.services) or "none is configured"
        return Refusal(f"no such service: {args[0]!r} (services: {names})")
    return service


def _set_service(run: Run, service: ServiceSettings) -> None:
    run.change(**service_fields(service))


def _known_type(arg: str, now: datetime, zone: tzinfo) -> bool:
    return arg in TICKET_TYPES


def _type(ctx: Context, args: tuple[str, ...]) -> TicketType:
    return TicketType(args[0])


def _set_type(run: Run, type: TicketType) -> None:
    run.change(type=type)


SPECS = (
    CommandSpec("service", Arity.ONE, _service, _set_service, once=True),
    CommandSpec(
        "type",
        Arity.ONE,
        _type,
        _set_type,
        check=_known_type,
        problem=f"unknown ticket type (use {', '.join(TICKET_TYPES)})",
        lower=True,
        once=True,
    ),
)
