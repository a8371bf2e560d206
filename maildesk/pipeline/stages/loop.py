"""loop: too many Received hops means a mail loop; the mail is held, not processed again."""

from __future__ import annotations

from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "loop"


def run(work: Work, env: StageEnv) -> Step:
    hops = work.parsed().received_count
    limit = env.desk.settings.desk.max_received_hops
    if hops > limit:
        return hold(f"mail loop: {hops} Received headers, limit {limit}"), work
    return CONTINUE, work
