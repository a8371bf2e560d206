"""The stage and handler tables: the order every inbound mail goes through, each entry named
like its module.
"""

from __future__ import annotations

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
from maildesk.pipeline.table import HANDLERS, STAGES


def test_the_stages_run_in_the_documented_order() -> None:
    assert [name for name, _run in STAGES] == [
        "parse",
        "history",
        "blacklist",
        "loop",
        "automatic",
        "thread-match",
        "decide",
    ]


def test_each_entry_runs_its_own_module_whose_name_is_the_kebab_case_stem() -> None:
    modules = (parse, history_stage, blacklist, loop, automatic, thread_match, decide)

    for (name, run), module in zip(STAGES, modules, strict=True):
        assert run is module.run
        assert name == module.__name__.rpartition(".")[2].replace("_", "-")


def test_the_handlers_run_in_the_documented_order_routing_first_announcing_last() -> None:
    assert [handler.name for handler in HANDLERS] == [
        "route",
        "unproven",
        "store",
        "rate",
        "participants",
        "rules",
        "assign",
        "agent-commands",
        "bounce",
        "history",
        "announce",
    ]


def test_each_handler_runs_its_own_module_and_only_stopping_ones_keep_something() -> None:
    modules = (
        route,
        unproven,
        store,
        rate,
        participants,
        rules,
        assign,
        agent_commands,
        bounce,
        history,
        announce,
    )

    for handler, module in zip(HANDLERS, modules, strict=True):
        assert handler.run is module.run
        assert handler.name == module.NAME == module.__name__.rpartition(".")[2].replace("_", "-")
        assert handler.on_stop is getattr(module, "on_stop", None)
