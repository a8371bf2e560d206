"""Customer categories: which `[[categories]]` entry a contact belongs to, else "standard".

An operator's choice stored on the contact (`maildesk contact set --category`) wins; else
the first entry, in declared order, that names the contact's address, its domain (or a
parent domain) or its organisation (by name or by domain). A ticket keeps the category its
requester had when it was created.
"""

from __future__ import annotations

from sqlmodel import Session

from maildesk.config import Settings
from maildesk.models import STANDARD_CATEGORY, Contact, Organisation


def _within(domain: str, domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def categorise(settings: Settings, *, email: str, organisation: Organisation | None) -> str:
    """The category the config gives this address (and its organisation, if any)."""
    email = email.lower()
    domain = email.rpartition("@")[2]
    names = {organisation.name, organisation.domain or ""} if organisation else set()
    names = {name.lower() for name in names if name}
    for category in settings.categories:
        if (
            email in category.addresses
            or _within(domain, category.domains)
            or not names.isdisjoint(category.organisations)
        ):
            return category.name
    return STANDARD_CATEGORY


def contact_category(session: Session, *, settings: Settings, contact: Contact) -> str:
    """The contact's category: set by an operator, else from the config as it is now (no
    `[[categories]]`: standard, without reading the organisation)."""
    if contact.category:
        return contact.category
    if not settings.categories:
        return STANDARD_CATEGORY
    organisation = (
        session.get(Organisation, contact.organisation_id) if contact.organisation_id else None
    )
    return categorise(settings, email=contact.email, organisation=organisation)


def known_categories(settings: Settings) -> list[str]:
    """What a contact's category may be set to."""
    return [STANDARD_CATEGORY, *(c.name for c in settings.categories)]
