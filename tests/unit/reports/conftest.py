"""A desk with the November of tests/report_history.py, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.report_values import ReportScope
from maildesk.reports.document import build
from tests.report_history import NOVEMBER, write_history


@pytest.fixture
def history(app: App) -> App:
    with unit_of_work(app.engine) as session:
        write_history(session)
    return app


def report_of(app: App, name: str, scope: ReportScope = NOVEMBER) -> dict[str, Any]:
    with unit_of_work(app.engine) as session:
        return build(session, desk=app.desk, name=name, scope=scope)
