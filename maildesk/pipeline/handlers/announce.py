"""announce: the mails a handled mail causes — the ack and the agents' notices. Always last.

It sends what earlier handlers put in `Work.notices`, so a handler placed before it (the rules
to come) can still change the ticket's queue, priority or assignee, or say no to the ack.
Agent replies are relayed by `agent-commands` itself.
"""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.announce import auto_reply, customer_reply, new_ticket
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import NoticeKind, StageEnv, Step, Work

NAME = "announce"


def run(work: Work, env: StageEnv) -> Step:
    if work.ticket_id is None or not work.notices:
        return CONTINUE, work
    ticket = env.session.get(Ticket, work.ticket_id)
    assert ticket is not None
    for notice in work.notices:
        if notice.kind is NoticeKind.NEW_TICKET:
            new_ticket(env, work, ticket, notice.text)
        elif notice.kind is NoticeKind.AUTO_REPLY and notice.template is not None:
            auto_reply(env, work, ticket, notice.template)
        else:
            customer_reply(env, ticket, notice.text, notice.author)
    return CONTINUE, work
