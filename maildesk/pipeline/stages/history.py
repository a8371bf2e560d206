"""history: an imported mail's own time — its Date, never later than now. Live mail passes.

The handlers of an imported mail then run at that time, so its ticket, message and events
carry the moment the mail was written, not the moment it was imported.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "history"


def run(work: Work, env: StageEnv) -> Step:
    if work.history is None:
        return CONTINUE, work
    written = work.parsed().date or env.now
    at = min(written, env.now)
    return CONTINUE, replace(work, history=replace(work.history, written_at=at))
