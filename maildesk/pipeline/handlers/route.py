"""route: the queue a new ticket goes to, by the desk address the mail was sent to.

Decides only (the choice rides on `Work.queue`); it runs before `store`, so the ticket is
created in its queue. The rules to come grow from here.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import StageEnv, Step, Work
from maildesk.rules.routing import choose_queue

NAME = "route"


def run(work: Work, env: StageEnv) -> Step:
    recipients = [a.email for a in work.parsed().recipients()]
    if work.thread is None:  # a located mail (a stranger's, a late follow-up) goes by its headers
        recipients += work.envelope_to
    return CONTINUE, replace(work, queue=choose_queue(env.desk.settings, recipients))
