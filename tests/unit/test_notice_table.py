"""The notice table: every template is reached from it (or still to come), every event has mail."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import maildesk.notices
from maildesk.notices.describe import markdown
from maildesk.notices.events import TO_COME, NoticeEvent
from maildesk.notices.table import NOTICES
from maildesk.outbound.render import BUILTIN_DIR, PARTS, TEMPLATE_NAMES

PACKAGE = Path(maildesk.notices.__file__).parent


def builtin_templates() -> set[str]:
    """Every template in templates/: partials (`_*`) and macros/ aside."""
    return {
        path.name.removesuffix(".subject.txt")
        for path in BUILTIN_DIR.glob("*.subject.txt")
        if not path.name.startswith("_")
    }


def test_every_template_is_reached_from_the_notice_table_or_still_to_come() -> None:
    reached = {row.template for row in NOTICES}

    assert builtin_templates() - reached == set(TO_COME.values())
    assert not reached & set(TO_COME.values())


@pytest.mark.parametrize(
    "template", sorted({row.template for row in NOTICES if row.template_key is None})
)
def test_every_template_of_the_table_has_all_parts_and_a_sample_context(template: str) -> None:
    assert all((BUILTIN_DIR / f"{template}.{part}").is_file() for part in PARTS)
    assert template in TEMPLATE_NAMES  # so `maildesk config check` renders it


def test_every_event_sends_mail_or_is_still_to_come() -> None:
    with_rows = {row.event for row in NOTICES}

    assert set(NoticeEvent) - with_rows == set(TO_COME)
    assert not with_rows & set(TO_COME)


def test_automatic_mail_goes_to_agents_or_one_customer_alone() -> None:
    """Automatic mail has one recipient (its rate key): a mail to all customers is no such mail.

    The one customer is the requester, or the customer who rated (for the thanks).
    """
    for row in NOTICES:
        if row.automatic and row.audience == "customers":
            assert row.readers.__name__ in ("requester", "rater"), row


FORBIDDEN = ("maildesk.pipeline", "maildesk.agent", "maildesk.rules", "maildesk.cli")
FORBIDDEN += ("maildesk.daemon", "maildesk.ingest", "maildesk.timed", "maildesk.app")


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_notices_import_only_what_lies_below_them(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]

    assert not [name for name in imported if name.startswith(FORBIDDEN)]


def test_the_readme_shows_the_notice_table_as_it_is() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert markdown() in readme
