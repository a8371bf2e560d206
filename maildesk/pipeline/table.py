"""The two ordered tables every inbound mail goes through; every stop leaves a reason.

Stages decide and write nothing:

| stage        | can stop with | why                                                        |
| parse        | hold          | oversize, unparseable, MIME nested too deep                |
| history      | —             | an imported mail's own time: its Date, never ahead of now  |
| blacklist    | reject        | sender address, domain or pattern is blacklisted          |
| loop         | hold, drop    | too many Received hops; From one of the desk's own addresses |
| automatic    | —             | marks machine mail; it never gets an automatic reply      |
| thread-match | hold          | no single From address on a person's mail                 |
| decide       | drop          | automatic mail matching no ticket                         |

Handlers act, inside one savepoint: a stop takes back all this mail wrote, then the stopping
handler's `on_stop` writes what the stop keeps. An imported mail's handlers run at the mail's
own time in a quiet transaction: `notify` queues nothing in it (`maildesk.notices.quiet`).

| handler        | can stop with | does                                                      |
| route          | —             | picks a new ticket's queue by the address the mail went to |
| unproven       | hold          | an agent's address without proof; keeps the agent's warning |
| store          | —             | creates the ticket or appends the message; reopens        |
| rate           | —             | a participant's rating: recorded, closes; thanks, alerts |
| participants   | —             | Cc'd people and a writing colleague join the ticket       |
| rules          | hold, drop    | the [[rules]]: fields, tags, cc, notes, auto-reply, no ack |
| assign         | —             | a customer's new ticket: a rule's assignee, else by strategy |
| agent-commands | reject        | runs an agent's commands, `#to`; keeps the error mail     |
| bounce         | —             | fails the outbox row a delivery report is about           |
| history        | —             | an imported mail's ticket closed ("imported"), or open    |
| announce       | —             | the ack and the agents' notices (last: rules go before it) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maildesk.pipeline.handlers import (
    agent_commands,
    announce,
    assign,
    bounce,
    history,
    participants,
    rate,
    route,
    rules,
    store,
    unproven,
)
from maildesk.pipeline.stages import automatic, blacklist, decide, loop, parse, thread_match
from maildesk.pipeline.stages import history as history_stage
from maildesk.pipeline.work import StageEnv, Step, Work

StageFn = Callable[[Work, StageEnv], Step]
KeepFn = Callable[[Work, StageEnv], None]

STAGES: tuple[tuple[str, StageFn], ...] = tuple(
    (module.NAME, module.run)
    for module in (parse, history_stage, blacklist, loop, automatic, thread_match, decide)
)


@dataclass(frozen=True)
class Handler:
    """One row of the handler table; `on_stop` writes what a stop of this handler keeps."""

    name: str
    run: StageFn
    on_stop: KeepFn | None = None


HANDLERS: tuple[Handler, ...] = (
    Handler(route.NAME, route.run),
    Handler(unproven.NAME, unproven.run, unproven.on_stop),
    Handler(store.NAME, store.run),
    Handler(rate.NAME, rate.run),
    Handler(participants.NAME, participants.run),
    Handler(rules.NAME, rules.run),
    Handler(assign.NAME, assign.run),
    Handler(agent_commands.NAME, agent_commands.run, agent_commands.on_stop),
    Handler(bounce.NAME, bounce.run),
    Handler(history.NAME, history.run),
    Handler(announce.NAME, announce.run),
)
