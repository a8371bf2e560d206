"""`maildesk tick` whose worker stops dead inside its batch, at one item, until it is killed.

A test seam: the handler table gets one more handler, after `store`, that says "stalled ID"
on READY_FD when it meets the item and then waits forever, its batch's transaction open with
the mails before it written and not committed.
"""

from __future__ import annotations

import os
import sys
import time

from maildesk.entry import main
from maildesk.pipeline import runner
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.table import HANDLERS, Handler
from maildesk.pipeline.work import StageEnv, Step, Work

USAGE = "python -m tests.integration.stalling_tick READY_FD ITEM_ID MAILDESK_ARGS…"


def stalling_at(item_id: int, ready_fd: int) -> Handler:
    def stall(work: Work, env: StageEnv) -> Step:
        if work.item_id == item_id:
            os.write(ready_fd, f"stalled {item_id}\n".encode())
            while True:
                time.sleep(60)
        return CONTINUE, work

    return Handler("stall", stall)


if __name__ == "__main__":
    if len(sys.argv) < 3 or not (sys.argv[1].isdigit() and sys.argv[2].isdigit()):
        sys.exit(USAGE)
    at = [handler.name for handler in HANDLERS].index("store") + 1
    stall = stalling_at(int(sys.argv[2]), int(sys.argv[1]))
    runner.HANDLERS = (*HANDLERS[:at], stall, *HANDLERS[at:])
    main(sys.argv[3:])
