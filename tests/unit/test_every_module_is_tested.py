"""Every module of maildesk is imported by at least one test, or is a listed exception.

A module no test imports can break without a single test noticing; coverage through some
other module's import is luck, not a test. The exceptions are explained in the README.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "maildesk"
TESTS = ROOT / "tests"
SKIPPED_DIRS = (PACKAGE / "migrations" / "versions",)  # data for alembic, run by test_migrations

# Modules no test imports, and why. Keep this short: every entry is a module that can break
# unseen. A package __init__ holding nothing but its docstring needs no entry (see below).
EXCEPTIONS = {
    # `python -m maildesk`: importing it does nothing; test_cli runs it as a real process.
    "maildesk.__main__": "run, not imported",
    # alembic's env script only works inside alembic's context; every upgrade in the tests
    # (test_migrations, the conftest's migrated databases) runs it.
    "maildesk.migrations.env": "run by alembic, not imported",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def holds_nothing(path: Path) -> bool:
    """A package __init__ whose whole body is its docstring: there is nothing to test."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    docstring = [node for node in body if isinstance(node, ast.Expr)]
    return path.name == "__init__.py" and len(body) == len(docstring) <= 1


def maildesk_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path.is_relative_to(skipped) for skipped in SKIPPED_DIRS)
    }


def imported_names(source: str) -> Iterator[str]:
    """Each module an import statement names: `import a.b`, `from a.b import c` (a.b, a.b.c)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def imported_by_tests() -> set[str]:
    return {
        name
        for path in TESTS.rglob("*.py")
        for name in imported_names(path.read_text(encoding="utf-8"))
        if name == "maildesk" or name.startswith("maildesk.")
    }


def test_every_module_is_imported_by_a_test_or_is_a_listed_exception() -> None:
    imported = imported_by_tests()

    untested = [
        name
        for name, path in maildesk_modules().items()
        if name not in imported and name not in EXCEPTIONS and not holds_nothing(path)
    ]

    assert untested == [], "no test imports these modules: " + ", ".join(untested)


def test_every_exception_is_still_needed() -> None:
    modules, imported = maildesk_modules(), imported_by_tests()

    stale = [name for name in EXCEPTIONS if name not in modules or name in imported]

    assert stale == [], "remove from EXCEPTIONS (and the README): " + ", ".join(stale)


def test_the_check_sees_each_way_of_importing_a_module() -> None:
    source = (
        "import maildesk.a\n"
        "from maildesk.b import thing\n"
        "from maildesk import c\n"
        "from maildesk.pkg import d\n"
        "def f():\n    from maildesk.e import g\n"
    )

    names = set(imported_names(source))

    assert {"maildesk.a", "maildesk.b", "maildesk.c", "maildesk.pkg.d", "maildesk.e"} <= names


def test_a_package_init_with_code_is_not_taken_for_an_empty_one() -> None:
    assert holds_nothing(PACKAGE / "services" / "__init__.py")
    assert not holds_nothing(PACKAGE / "mail" / "__init__.py")
    assert not holds_nothing(PACKAGE / "__init__.py")  # it holds __version__
