"""`#cc`/`#uncc` (participants who receive public replies) and `#watch`/`#unwatch` (agents)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from maildesk.addresses import local_part_matches
from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run, no_value
from maildesk.models import Contact, Participant, ParticipantRole, Watcher
from maildesk.services.blacklist import blacklist_entry
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.tickets import add_cc

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ADDRESS_PROBLEM = "not an email address"


def is_address(arg: str, now: datetime, zone: tzinfo) -> bool:
    return bool(_ADDRESS.match(arg))


def desk_address_refusal(ctx: Context, address: str) -> Refusal | None:
    """The desk never becomes a participant: it would mail itself."""
    if local_part_matches(address, ctx.desk.settings.desk_addresses()):
        return Refusal("that is one of the desk's own addresses")
    return None


def _cc_address(ctx: Context, args: tuple[str, ...]) -> str | Refusal:
    address = args[0]
    own = desk_address_refusal(ctx, address)
    if own is not None:
        return own
    entry = blacklist_entry(ctx.session, config=ctx.desk.settings.blacklist, address=address)
    return Refusal(f"{address} is blacklisted ({entry})") if entry is not None else address


def _uncc_address(ctx: Context, args: tuple[str, ...]) -> str | Refusal:
    requester = ctx.session.get(Contact, ctx.ticket.requester_id)
    if requester is not None and requester.email == args[0]:
        return Refusal(f"{args[0]} is the requester, who cannot be removed")
    return args[0]


def _cc(run: Run, address: str) -> None:
    free_mail = run.desk.settings.desk.free_mail_domains
    add_cc(run.session, ticket=run.ticket, email=address, free_mail=free_mail, now=run.now)
    run.event("cc", {"address": address})


def _uncc(run: Run, address: str) -> None:
    contact = get_or_create_contact(
        run.session,
        email=address,
        name="",
        free_mail=run.desk.settings.desk.free_mail_domains,
        now=run.now,
    )
    row = run.session.get(Participant, (run.ticket.id, contact.id))
    if row is not None and row.role != ParticipantRole.REQUESTER:
        run.session.delete(row)
    run.event("uncc", {"address": address})


def _watch(run: Run, value: None) -> None:
    assert run.ticket.id is not None and run.agent.id is not None
    if run.session.get(Watcher, (run.ticket.id, run.agent.id)) is None:
        run.session.add(Watcher(ticket_id=run.ticket.id, agent_id=run.agent.id))
    run.event("watch", {"agent": run.agent.email})


def _unwatch(run: Run, value: None) -> None:
    assert run.ticket.id is not None and run.agent.id is not None
    row = run.session.get(Watcher, (run.ticket.id, run.agent.id))
    if row is not None:
        run.session.delete(row)
    run.event("unwatch", {"agent": run.agent.email})


SPECS = (
    CommandSpec(
        "cc", Arity.ONE, _cc_address, _cc, check=is_address, problem=ADDRESS_PROBLEM, lower=True
    ),
    CommandSpec(
        "uncc",
        Arity.ONE,
        _uncc_address,
        _uncc,
        check=is_address,
        problem=ADDRESS_PROBLEM,
        lower=True,
    ),
    CommandSpec("watch", Arity.NONE, no_value, _watch),
    CommandSpec("unwatch", Arity.NONE, no_value, _unwatch),
)
