"""No function of maildesk runs over 40 lines (STYLE.md): a longer one is a concept still missing.

Counted from `def` to the last line, docstring and blank lines included, decorators not. The
generated migrations are data for alembic, not code to read, and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "maildesk"
SKIPPED_DIRS = (PACKAGE / "migrations" / "versions",)
MAX_LINES = 40


def function_lengths(source: str) -> Iterator[tuple[str, int, int]]:
    """(name, first line, length in lines) of every function and method, nested ones too."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def package_sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(path.is_relative_to(skipped) for skipped in SKIPPED_DIRS):
            yield path


def test_no_function_is_longer_than_forty_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for path in package_sources()
        for name, line, length in function_lengths(path.read_text(encoding="utf-8"))
        if length > MAX_LINES
    ]

    assert too_long == [], "split these functions: " + "; ".join(too_long)


def test_the_count_runs_from_def_to_the_last_line_and_sees_nested_and_async_functions() -> None:
    source = (
        "@decorated\n"
        "def outer():\n"
        '    """Doc."""\n'
        "\n"
        "    async def inner():\n"
        "        return 1\n"
        "    return inner\n"
        "class A:\n"
        "    def method(self):\n"
        "        pass\n"
    )

    lengths = {name: (line, length) for name, line, length in function_lengths(source)}

    assert lengths == {"outer": (2, 6), "inner": (5, 2), "method": (9, 2)}


def test_the_migrations_alembic_runs_are_the_only_files_left_out() -> None:
    walked = set(package_sources())
    everything = set(PACKAGE.rglob("*.py"))

    assert everything - walked == set((PACKAGE / "migrations" / "versions").glob("*.py"))
    assert PACKAGE / "migrations" / "env.py" in walked
