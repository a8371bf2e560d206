"""blacklist: a blacklisted sender (address, domain or pattern) is rejected; no ticket, no reply."""

from __future__ import annotations

from maildesk.pipeline.disposition import CONTINUE, reject
from maildesk.pipeline.work import StageEnv, Step, Work
from maildesk.services.blacklist import blacklist_reason

NAME = "blacklist"


def run(work: Work, env: StageEnv) -> Step:
    mail = work.parsed()
    candidates = {a.email for a in mail.from_}
    if mail.return_path:
        candidates.add(mail.return_path)
    for address in sorted(candidates):
        reason = blacklist_reason(env.session, config=env.desk.settings.blacklist, address=address)
        if reason:
            return reject(reason), work
    return CONTINUE, work
