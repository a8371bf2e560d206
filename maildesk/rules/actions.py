"""Rule actions by name: each checks its argument once (`compile`) and adds it to a Decision.

Actions only decide: `apply` returns a new `Decision`, and the caller carries it out. A new
action is one small function and one row of `ACTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from maildesk.models import Priority
from maildesk.rules import shapes
from maildesk.rules.decision import Decision, adding
from maildesk.rules.shapes import Reference

A = TypeVar("A")

TYPES = ("incident", "request")
STRATEGIES = ("least-loaded", "round-robin")
LEVELS = range(1, 10)
_TEMPLATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Action(Generic[A]):
    name: str
    compile: Callable[[object], A]
    apply: Callable[[Decision, A], Decision]
    refers: Reference | None = None


# ---- arguments ---------------------------------------------------------------------------


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a name, got {value!r}")
    return value.strip()


def _one_of(*allowed: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value.lower()

    return check


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


def _addresses(value: object) -> tuple[str, ...]:
    return tuple(_address(a) for a in shapes.strings(value, "an address"))


def _assignee(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in STRATEGIES:
        return value.strip().lower()
    if isinstance(value, str) and "@" in value:
        return _address(value.strip())
    raise ValueError(f"expected an agent's email or one of {', '.join(STRATEGIES)}, got {value!r}")


def _level(value: object) -> int:
    if type(value) is not int or value not in LEVELS:
        raise ValueError(f"expected a support level 1 to 9, got {value!r}")
    return value


def _template(value: object) -> str:
    if not isinstance(value, str) or not _TEMPLATE.match(value):
        raise ValueError(f"expected a template name (letters, digits, . _ -), got {value!r}")
    return value


def _flag(value: object) -> bool:
    return shapes.flag(value, "the value")


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty text, got {value!r}")
    return value.strip()


# ---- the actions -------------------------------------------------------------------------


def _setting(field: str) -> Callable[[Decision, Any], Decision]:
    """An action that sets one single-valued field of the decision."""

    def apply(decision: Decision, value: Any) -> Decision:
        return replace(decision, **{field: value})

    return apply


def _add_tags(decision: Decision, tags: tuple[str, ...]) -> Decision:
    return replace(decision, tags=adding(decision.tags, tags))


def _add_cc(decision: Decision, cc: tuple[str, ...]) -> Decision:
    return replace(decision, cc=adding(decision.cc, cc))


def _auto_reply(decision: Decision, template: str) -> Decision:
    return replace(decision, auto_reply=adding(decision.auto_reply, (template,)))


def _note(decision: Decision, text: str) -> Decision:
    return replace(decision, notes=(*decision.notes, text))


def _refers(kind: str) -> Reference:
    return Reference(kind, lambda name: (name,))


def _agent(assignee: str) -> tuple[str, ...]:
    return (assignee,) if "@" in assignee else ()


ACTIONS: Mapping[str, Action[Any]] = MappingProxyType(
    {
        a.name: a
        for a in (
            Action("queue", _name, _setting("queue"), _refers("queue")),
            Action("service", _name, _setting("service"), _refers("service")),
            Action("type", _one_of(*TYPES), _setting("type")),
            Action("priority", _one_of(*(str(p) for p in Priority)), _setting("priority")),
            Action("category", _name, _setting("category"), _refers("category")),
            Action("tags", shapes.tags, _add_tags),
            Action("assign", _assignee, _setting("assign"), Reference("agent", _agent)),
            Action("level", _level, _setting("level")),
            Action("cc", _addresses, _add_cc),
            Action("auto_reply", _template, _auto_reply, _refers("template")),
            Action("acknowledge", _flag, _setting("acknowledge")),
            Action("hold", _text, _setting("hold")),
            Action("drop", _text, _setting("drop")),
            Action("note", _text, _note),
        )
    }
)
