"""What runs after every change of a ticket: a declared table, low in the import chain.

`maildesk.services.ticket_change.change` calls each hook with the ticket, the names of the
fields that changed and the time, once the change is made (SLA deadlines are recomputed here).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from maildesk.models import Ticket

ChangeHook = Callable[[Session, Ticket, frozenset[str], datetime], None]

HOOKS: tuple[ChangeHook, ...] = ()
