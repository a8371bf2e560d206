"""The command language sits below the pipeline and the CLI: it imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import maildesk.agent

PACKAGE = Path(maildesk.agent.__file__).parent


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return names | {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }


def test_the_agent_package_imports_neither_the_pipeline_nor_the_cli() -> None:
    upward = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name in imported(path)
        if name.startswith(("maildesk.pipeline", "maildesk.cli", "maildesk.daemon"))
    }

    assert upward == set()
