"""The stage table: the order every inbound mail goes through, each stage named like its module."""

from __future__ import annotations

from maildesk.pipeline.stages import automatic, blacklist, decide, loop, parse, thread_match
from maildesk.pipeline.table import STAGES


def test_the_stages_run_in_the_documented_order() -> None:
    assert [name for name, _run in STAGES] == [
        "parse",
        "blacklist",
        "loop",
        "automatic",
        "thread-match",
        "decide",
    ]


def test_each_entry_runs_its_own_module_whose_name_is_the_kebab_case_stem() -> None:
    modules = (parse, blacklist, loop, automatic, thread_match, decide)

    for (name, run), module in zip(STAGES, modules, strict=True):
        assert run is module.run
        assert name == module.__name__.rpartition(".")[2].replace("_", "-")
