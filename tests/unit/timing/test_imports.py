"""The timing package sits low in the import chain: it imports the standard library and
maildesk.errors, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import maildesk.timing

PACKAGE = Path(maildesk.timing.__file__).parent
ALLOWED = {"maildesk.errors", "maildesk.timing"}


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(name: str) -> bool:
    root = name.partition(".")[0]
    inside = any(name == a or name.startswith(f"{a}.") for a in ALLOWED)
    return inside or (root != "maildesk" and root in sys.stdlib_module_names) or root == "tzdata"


def test_the_timing_package_imports_only_the_standard_library_and_errors() -> None:
    upward = {
        f"{path.name}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name in top_level_imports(path)
        if not allowed(name)
    }

    assert upward == set()
