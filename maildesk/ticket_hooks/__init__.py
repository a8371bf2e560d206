"""What runs after every change of a ticket: a declared table, low in the import chain.

`maildesk.services.ticket_change.change` calls each hook with the desk's SLA policies, the
ticket, the names of the fields that changed and the time, once the change is made; a new
ticket's first call names `created`. The SLA clock (`clock.py`) is the hook there is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from maildesk.models import Ticket
from maildesk.ticket_hooks.clock import follow_clock
from maildesk.timing.sla import SlaBook

ChangeHook = Callable[[Session, SlaBook, Ticket, frozenset[str], datetime], None]

HOOKS: tuple[ChangeHook, ...] = (follow_clock,)
