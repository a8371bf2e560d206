"""participants: who on a customer's mail joins the ticket — Cc'd people, a writing colleague.

Never the sender, the desk, or an agent (of the config or added with `maildesk agent add`).
"""

from __future__ import annotations

from maildesk.addresses import local_part_matches
from maildesk.mail import Address, InboundMail
from maildesk.models import MessageRole, Relation, Ticket
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import Append, Create, StageEnv, Step, Work
from maildesk.services.contacts import active_agents
from maildesk.services.tickets import Actor, add_cc, record_event

NAME = "participants"


def _cc_candidates(env: StageEnv, mail: InboundMail) -> list[Address]:
    settings = env.desk.settings
    desk = settings.desk_addresses()
    agents = {a.email for a in settings.agents} | {a.email for a in active_agents(env.session)}
    sender = mail.sender.email if mail.sender else None
    return [
        address
        for address in mail.to + mail.cc
        if address.email != sender
        and address.email not in agents
        and not local_part_matches(address.email, desk)
    ]


def _join(env: StageEnv, ticket: Ticket, address: Address) -> bool:
    return add_cc(
        env.session,
        ticket=ticket,
        email=address.email,
        name=address.name,
        free_mail=env.desk.settings.desk.free_mail_domains,
        now=env.now,
    )


def _customer_mail(work: Work) -> bool:
    plan = work.plan
    return isinstance(plan, Create) or (
        isinstance(plan, Append) and plan.role == MessageRole.CUSTOMER
    )


def run(work: Work, env: StageEnv) -> Step:
    if work.ticket_id is None or not _customer_mail(work):
        return CONTINUE, work
    mail = work.parsed()
    ticket = env.session.get(Ticket, work.ticket_id)
    assert ticket is not None
    colleague = work.thread is not None and work.thread.relation == Relation.COLLEAGUE
    if isinstance(work.plan, Append) and colleague and mail.sender:
        _join(env, ticket, mail.sender)  # a colleague who writes in joins without an event
    actor = Actor(mail.sender.email if mail.sender else "system", f"mail:{work.item_id}")
    for address in _cc_candidates(env, mail):
        if _join(env, ticket, address):
            record_event(
                env.session,
                ticket=ticket,
                actor=actor,
                type="participant",
                data={"added": address.email},
                now=env.now,
            )
    return CONTINUE, work
