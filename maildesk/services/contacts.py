"""Contacts and their organisations (one per non-free-mail domain)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from maildesk.db import insert_unless_taken
from maildesk.models import Agent, Contact, Organisation

T = TypeVar("T", Organisation, Contact)


def organisation_domain(email: str, free_mail: Iterable[str]) -> str | None:
    """The organisation a sender belongs to: its domain, unless that is a free-mail domain."""
    domain = email.rpartition("@")[2].lower()
    return None if not domain or domain in set(free_mail) else domain


_CONTACT = select(Contact).where(Contact.email == bindparam("key"))
_ORGANISATION = select(Organisation).where(Organisation.domain == bindparam("key"))
_ACTIVE_AGENTS = select(Agent).where(Agent.active == True).order_by(Agent.email)  # noqa: E712


def _insert_or_find(session: Session, lookup: SelectOfScalar[T], key: str, row: T) -> T:
    """Insert `row`, which the caller did not find; a concurrent insert by another process wins.

    One statement instead of a savepoint and a flush; the new row joins the session as if
    it had been loaded.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    statement = insert_unless_taken(session, table, table.c.id)
    new_id = session.execute(statement, row.model_dump(exclude={"id"})).scalar()
    if new_id is None:  # taken meanwhile
        found = session.exec(lookup, params={"key": key}).first()
        if found is None:
            raise RuntimeError(f"inserting {key!r} conflicted, yet no row holds it")
        return found
    row.id = new_id
    make_transient_to_detached(row)
    session.add(row)
    return row


def get_or_create_contact(
    session: Session, *, email: str, name: str, free_mail: Iterable[str], now: datetime
) -> Contact:
    email = email.lower()
    contact = session.exec(_CONTACT, params={"key": email}).first()
    if contact is not None:
        if name and not contact.name:
            contact.name = name
            session.add(contact)
        return contact
    organisation_id = None
    domain = organisation_domain(email, free_mail)
    if domain:
        organisation = session.exec(_ORGANISATION, params={"key": domain}).first()
        if organisation is None:
            organisation = _insert_or_find(
                session, _ORGANISATION, domain, Organisation(domain=domain, name=domain)
            )
        organisation_id = organisation.id
    return _insert_or_find(
        session,
        _CONTACT,
        email,
        Contact(email=email, name=name, organisation_id=organisation_id, created_at=now),
    )


def active_agents(session: Session) -> list[Agent]:
    """Every active agent, read once per unit of work (a mail needs them several times).

    A snapshot: an agent added later in the same session is not in it.
    """
    if "active_agents" not in session.info:
        session.info["active_agents"] = list(session.exec(_ACTIVE_AGENTS))
    agents: list[Agent] = session.info["active_agents"]
    return agents


def queue_agents(session: Session, *, queue: str) -> list[Agent]:
    """Agents who are not away and work this queue (a supervisor with no queues works all)."""
    return [
        agent
        for agent in active_agents(session)
        if not agent.away
        and (queue in agent.queues or (agent.role == "supervisor" and not agent.queues))
    ]


def forget_active_agents(session: Session) -> None:
    """Called by whatever adds or changes agents in a session."""
    session.info.pop("active_agents", None)


def find_agent(session: Session, *, email: str) -> Agent | None:
    email = email.lower()
    return next((agent for agent in active_agents(session) if agent.email == email), None)
