"""loop: mail that has gone round. Held: more Received hops than allowed (a relay loop).

Dropped: mail From one of the desk's own addresses, which is our own mail come back (a
forward or list with the desk on it) or a forgery; answering either would feed the loop.
"""

from __future__ import annotations

from maildesk.addresses import local_part_matches
from maildesk.pipeline.disposition import CONTINUE, drop, hold
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "loop"


def own_sender(work: Work, env: StageEnv) -> str | None:
    """The first From address that is the desk's own (its address, a queue's, or a `+` one)."""
    desk = env.desk.settings.desk_addresses()
    return next((a.email for a in work.parsed().from_ if local_part_matches(a.email, desk)), None)


def run(work: Work, env: StageEnv) -> Step:
    hops = work.parsed().received_count
    limit = env.desk.settings.desk.max_received_hops
    if hops > limit:
        return hold(f"mail loop: {hops} Received headers, limit {limit}"), work
    own = own_sender(work, env)
    if own is not None:
        reason = f"mail from the desk's own address {own}: our own mail come back, or a forgery"
        return drop(reason), work
    return CONTINUE, work
