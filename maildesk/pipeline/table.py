"""The ordered stage table: each stage may stop the mail, and every stop leaves a reason.

| stage        | can stop with | why                                                        |
| parse        | hold          | oversize, unparseable, MIME nested too deep                |
| blacklist    | reject        | sender address, domain or pattern is blacklisted          |
| loop         | hold, drop    | too many Received hops; From one of the desk's own addresses |
| automatic    | —             | marks machine mail; it never gets an automatic reply      |
| thread-match | hold          | no single From address on a person's mail                 |
| decide       | drop, hold    | automatic mail with no ticket; an agent address unproven  |
"""

from __future__ import annotations

from collections.abc import Callable

from maildesk.pipeline.stages import automatic, blacklist, decide, loop, parse, thread_match
from maildesk.pipeline.work import StageEnv, Step, Work

StageFn = Callable[[Work, StageEnv], Step]

STAGES: tuple[tuple[str, StageFn], ...] = tuple(
    (module.NAME, module.run)
    for module in (parse, blacklist, loop, automatic, thread_match, decide)
)
