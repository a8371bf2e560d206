"""`maildesk ingest` that stops right after its accept commit until the test says go.

A test seam, and the only one: ingest commits the mail and begins processing it at once, so
another writer's lock can only be slipped between the two if ingest waits there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from maildesk.app import App
from maildesk.entry import main
from maildesk.ingest import pipe_ingest
from maildesk.services.inbox import Stored
from maildesk.services.origin import Origin

USAGE = "python -m tests.integration.paused_ingest READY_FD MAILDESK_ARGS…"


def pausing(
    accept: Callable[[App, bytes, Origin], Stored], ready_fd: int
) -> Callable[[App, bytes, Origin], Stored]:
    """`accept`, then "accepted ID" on `ready_fd`, then wait for a line on stdin."""

    def accept_then_wait(app: App, raw: bytes, origin: Origin) -> Stored:
        stored = accept(app, raw, origin)
        os.write(ready_fd, f"accepted {stored.item_id}\n".encode())
        sys.stdin.readline()
        return stored

    return accept_then_wait


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit(USAGE)
    pipe_ingest.accept_raw = pausing(pipe_ingest.accept_raw, int(sys.argv[1]))
    main(sys.argv[2:])
