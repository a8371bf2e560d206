"""parse: raw bytes → InboundMail; holds what is oversize, unparseable or has no single sender.

A batch may have parsed the mail ahead in its parse pool (`Work.parsed_ahead`): the same value,
the same hold, taken as it is. The size limit is looked at first either way.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.mail import UnparseableMail, parse_mail
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "parse"


def run(work: Work, env: StageEnv) -> Step:
    settings = env.desk.settings
    limit = settings.smtp.max_message_bytes
    if len(work.raw) > limit:
        return hold(f"oversize: {len(work.raw)} bytes, limit {limit}"), work
    ahead = work.parsed_ahead  # the same parse_mail, in the pool
    if ahead is not None and ahead.mail is None:
        return hold(ahead.unparseable or "unparseable"), work
    if ahead is not None:
        return CONTINUE, replace(work, mail=ahead.mail)
    try:
        mail = parse_mail(work.raw, max_depth=settings.desk.max_mime_depth)
    except UnparseableMail as exc:
        return hold(str(exc)), work
    return CONTINUE, replace(work, mail=mail)
