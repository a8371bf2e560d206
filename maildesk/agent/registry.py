"""Every command by name, collected from the modules of `maildesk.agent.specs`.

Each spec module exports `SPECS`; adding a command is adding a spec there (and its tests).
`TO_COME` names the commands of DESIGN.md §3 that have no spec yet; it only ever shrinks.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from maildesk.agent import specs
from maildesk.agent.spec import CommandSpec

TO_COME: tuple[str, ...] = ()


def _collect() -> dict[str, CommandSpec]:
    found: dict[str, CommandSpec] = {}
    for module in pkgutil.iter_modules(specs.__path__):
        for spec in importlib.import_module(f"{specs.__name__}.{module.name}").SPECS:
            if spec.name in found:
                raise RuntimeError(f"two specs for #{spec.name}")
            found[spec.name] = spec
    return found


COMMANDS: Mapping[str, CommandSpec] = MappingProxyType(_collect())
# "#resolve" → ("status", "resolved"): a whole line that stands for a command with its argument
SHORTHANDS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {line: (spec.name, arg) for spec in COMMANDS.values() for line, arg in spec.shorthands.items()}
)
# "#resolve" → "reason": a shorthand whose line may go on with text, for that command
CARRIES: Mapping[str, str] = MappingProxyType(
    {line: name for spec in COMMANDS.values() for line, name in spec.carries.items()}
)
