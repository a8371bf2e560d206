"""parse: raw bytes → InboundMail; holds what is oversize, unparseable or has no single sender.

A batch may have parsed the mail ahead in its parse pool (`Work.parsed_ahead`): the same value,
the same hold, taken as it is. The size limit is looked at first either way.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.parse_pool import parse
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "parse"


def run(work: Work, env: StageEnv) -> Step:
    settings = env.desk.settings
    limit = settings.smtp.max_message_bytes
    if len(work.raw) > limit:
        return hold(f"oversize: {len(work.raw)} bytes, limit {limit}"), work
    parsed = work.parsed_ahead or parse(work.raw, settings.desk.max_mime_depth)
    if parsed.mail is None:
        return hold(parsed.unparseable or "unparseable"), work
    return CONTINUE, replace(work, mail=parsed.mail)
