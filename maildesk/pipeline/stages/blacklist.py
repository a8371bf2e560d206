"""blacklist: a blacklisted sender (address, domain or pattern) is rejected; no ticket, no reply.

The senders checked: every From address, the Return-Path, and the SMTP envelope sender.
"""

from __future__ import annotations

from maildesk.pipeline.disposition import CONTINUE, reject
from maildesk.pipeline.work import StageEnv, Step, Work
from maildesk.services.blacklist import blacklist_reason

NAME = "blacklist"


def senders(work: Work) -> list[str]:
    """Every address the mail claims or proves to come from, in a stable order."""
    mail = work.parsed()
    claimed = [a.email for a in mail.from_] + [mail.return_path or "", work.envelope_from or ""]
    return sorted({address.lower() for address in claimed if address})


def run(work: Work, env: StageEnv) -> Step:
    config = env.desk.settings.blacklist
    reason = blacklist_reason(env.session, config=config, addresses=senders(work))
    if reason:
        return reject(reason), work
    return CONTINUE, work
