"""Contacts and their organisations (one per non-free-mail domain, or named by an operator)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from maildesk.config_checks import AUTO
from maildesk.db import (
    Prepared,
    forget_transaction_cached,
    load_one,
    prepared_insert_unless_taken,
    transaction_cached,
)
from maildesk.errors import InvalidInput, NotFound
from maildesk.models import Agent, Contact, Organisation

T = TypeVar("T", Organisation, Contact)


def organisation_domain(email: str, free_mail: Iterable[str]) -> str | None:
    """The organisation a sender belongs to: its domain, unless that is a free-mail domain."""
    domain = email.rpartition("@")[2].lower()
    return None if not domain or domain in set(free_mail) else domain


_CONTACTS = Contact.__table__  # type: ignore[attr-defined]
_CONTACT = Prepared(sa_select(_CONTACTS).where(_CONTACTS.c.email == bindparam("key")))
_ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
_ORGANISATION = Prepared(
    sa_select(_ORGANISATIONS).where(_ORGANISATIONS.c.domain == bindparam("key"))
)
_ACTIVE_AGENTS = select(Agent).where(Agent.active == True).order_by(Agent.email)  # noqa: E712


def _insert_or_find(session: Session, lookup: Prepared, key: str, row: T) -> T:
    """Insert `row`, which the caller did not find; a concurrent insert by another process wins.

    One statement instead of a savepoint and a flush; the new row joins the session as if
    it had been loaded.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    statement = prepared_insert_unless_taken(session, table, table.c.id)
    new_id = statement.execute(session, row.model_dump(exclude={"id"})).scalar()
    if new_id is None:  # taken meanwhile
        found = load_one(session, type(row), lookup, {"key": key})
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
    contact = load_one(session, Contact, _CONTACT, {"key": email})
    if contact is not None:
        if name and not contact.name:
            contact.name = name
            session.add(contact)
        return contact
    organisation_id = None
    domain = organisation_domain(email, free_mail)
    if domain:
        organisation = load_one(session, Organisation, _ORGANISATION, {"key": domain})
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


_AGENTS = "active agents"  # transaction_cached key


def active_agents(session: Session) -> list[Agent]:
    """Every active agent, read once per transaction (a mail needs them several times, and a
    batch's mails share them: each mail takes the same rows back into its session, with
    what the mails before it changed on them, such as a round-robin's last assignment).

    A snapshot: an agent added later in the same transaction is not in it, unless whatever
    added it called `forget_active_agents`.
    """
    agents: list[Agent] = transaction_cached(session, _AGENTS, lambda: _read_agents(session))
    away = [agent for agent in agents if agent not in session]
    if any(session.identity_key(instance=agent) in session.identity_map for agent in away):
        forget_active_agents(session)  # this mail read one of them itself: read them afresh
        agents = transaction_cached(session, _AGENTS, lambda: _read_agents(session))
    else:
        session.add_all(away)  # as they were when the last mail flushed them
    return agents


def _read_agents(session: Session) -> list[Agent]:
    return list(session.exec(_ACTIVE_AGENTS))


def queue_agents(session: Session, *, queue: str) -> list[Agent]:
    """Agents who are not away and work this queue (a supervisor with no queues works all)."""
    return [
        agent
        for agent in active_agents(session)
        if not agent.away
        and (queue in agent.queues or (agent.role == "supervisor" and not agent.queues))
    ]


def find_agent_by(session: Session, who: str) -> Agent | None:
    """An active agent by email, or by a name no other agent has (as `#assign` takes it)."""
    who = who.strip().lower()
    agents = active_agents(session)
    by_email = [a for a in agents if a.email == who]
    if by_email:
        return by_email[0]
    by_name = [a for a in agents if a.name.lower() == who]
    return by_name[0] if len(by_name) == 1 else None  # an ambiguous name names no one


def forget_active_agents(session: Session) -> None:
    """Called by whatever adds or changes agents in a session."""
    forget_transaction_cached(session, _AGENTS)


def find_agent(session: Session, *, email: str) -> Agent | None:
    email = email.lower()
    return next((agent for agent in active_agents(session) if agent.email == email), None)


def get_contact(session: Session, *, email: str) -> Contact:
    contact = load_one(session, Contact, _CONTACT, {"key": email.strip().lower()})
    if contact is None:
        raise NotFound(f"no contact {email}")
    return contact


def list_contacts(session: Session) -> list[Contact]:
    return list(session.exec(select(Contact).order_by(col(Contact.email))))


def named_organisation(session: Session, *, name: str) -> Organisation:
    """The organisation with this domain or name (any case), made by name if there is none."""
    key = name.strip().lower()
    by_domain = load_one(session, Organisation, _ORGANISATION, {"key": key})
    if by_domain is not None:
        return by_domain
    query = select(Organisation).where(func.lower(Organisation.name) == key)
    found = session.exec(query.order_by(col(Organisation.id))).first()
    if found is None:
        found = Organisation(name=name.strip())
        session.add(found)
        session.flush()
    return found


def set_contact(
    session: Session,
    *,
    email: str,
    known_categories: list[str],
    free_mail: Iterable[str],
    now: datetime,
    category: str | None = None,
    organisation: str | None = None,
) -> Contact:
    """Set a contact's category (`auto`: follow [[categories]] again) or organisation.

    A contact who never wrote is made: an operator may name a customer before their first mail.
    """
    email = email.strip().lower()
    local, _, domain = email.rpartition("@")
    if not local or "." not in domain or " " in email:
        raise InvalidInput(f"not an email address: {email!r}")
    if category is not None and category != AUTO and category not in known_categories:
        raise InvalidInput(
            f"unknown category {category!r} (use {', '.join(known_categories)} or {AUTO})"
        )
    if organisation is not None and not organisation.strip():
        raise InvalidInput("--organisation needs a name")
    contact = get_or_create_contact(session, email=email, name="", free_mail=free_mail, now=now)
    if category is not None:
        contact.category = "" if category == AUTO else category
    if organisation is not None:
        contact.organisation_id = named_organisation(session, name=organisation).id
    session.add(contact)
    return contact
