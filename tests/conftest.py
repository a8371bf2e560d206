"""Fixtures: a migrated database on SQLite and on PostgreSQL, an app, and a conversation helper.

Every test that asks for `app` runs once per backend; PostgreSQL comes from
MAILDESK_TEST_DATABASE_URL and is skipped (laptop) or required (CI) via tests/services.py.
"""

from __future__ import annotations

import email.policy
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from maildesk.app import App, accept_raw, open_app
from maildesk.config import Settings, parse_settings
from maildesk.db import make_engine, unit_of_work, upgrade
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.sender.delivery import send_outbox
from maildesk.services.origin import Origin
from maildesk.services.tickets import get_ticket
from maildesk.services.views import ticket_detail
from maildesk.timing.clock import FixedClock
from tests.services import missing_service, services_required

# Hypothesis: no deadline anywhere (a shared machine's timing says nothing about the code); in CI
# the examples are derandomized, so a red run is the same on every rerun, and the blob is printed.
hypothesis.settings.register_profile("dev", deadline=None)
hypothesis.settings.register_profile(
    "ci", hypothesis.settings.get_profile("ci"), max_examples=200, print_blob=True
)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") or services_required() else "dev")

# any skip, xfail or deselection fails a run with MAILDESK_REQUIRE_SERVICES=1
pytest_plugins = ["tests.skip_guard"]

PG_ENV = "MAILDESK_TEST_DATABASE_URL"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

BASE_CONFIG: dict[str, Any] = {
    "desk": {"name": "Example Support", "address": "support@example.com", "secret": "s3cret"},
    "queues": [
        {"name": "general", "addresses": ["support@example.com"]},
        {"name": "billing", "addresses": ["billing@example.com"]},
    ],
    "agents": [
        {
            "email": "alice@example.com",
            "name": "Alice",
            "role": "supervisor",
            "queues": ["general", "billing"],
        },
        {"email": "bob@example.com", "name": "Bob", "queues": ["general"]},
    ],
    "blacklist": {"addresses": ["spammer@example.net"], "domains": ["blocked.example"]},
}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "maildesk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema in the test PostgreSQL server, migrated once, dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        missing_service(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://user@host/db")
    schema = f"maildesk_test_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)  # type: ignore[arg-type]
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        missing_service(f"PostgreSQL at {base} unreachable: {exc}")
    sep = "&" if "?" in base else "?"  # type: ignore[operator]
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    upgrade(make_engine(url))
    yield url
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "var" / "maildesk.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


def make_settings(base_dir: Path, database_url: str, **overrides: Any) -> Settings:
    data = {**BASE_CONFIG, "database": {"url": database_url}}
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return parse_settings(data, base_dir)


def free_port() -> int:
    """A loopback port nothing listens on (a database server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers, like a hung database server."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[App]:
    application = open_app(settings, clock=clock)
    yield application
    application.engine.dispose()


class Desk:
    """Conversation helper: mail arrives, the desk processes it, we look at the ticket."""

    def __init__(self, app: App, clock: FixedClock) -> None:
        self.app = app
        self.clock = clock
        self._seen: set[str] = set()

    def receives(self, raw: bytes, *, envelope_to: tuple[str, ...] = ()) -> Outcome:
        stored = accept_raw(self.app, raw, Origin(transport="pipe", envelope_to=envelope_to))
        assert not stored.duplicate, "this mail was already delivered"
        outcome = process_one(self.app.engine, self.app.desk, item_id=stored.item_id)
        assert outcome is not None
        return outcome

    def sent(self) -> list[EmailMessage]:
        """Deliver due outbound mail to the Maildir; return what arrived since the last call."""
        send_outbox(self.app)
        folder = Path(self.app.settings.path(self.app.settings.outbound.maildir)) / "new"
        new = (
            sorted(p for p in folder.glob("*") if p.name not in self._seen)
            if folder.exists()
            else []
        )
        self._seen.update(p.name for p in new)
        return [
            message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in new
        ]

    def ticket(self, ref: str) -> dict[str, Any]:
        with unit_of_work(self.app.engine) as session:
            ticket = get_ticket(session, ref=ref)
            return ticket_detail(session, ticket, settings=self.app.settings)


@pytest.fixture
def desk(app: App, clock: FixedClock) -> Desk:
    return Desk(app, clock)


def pytest_configure(config: pytest.Config) -> None:
    """In CI (MAILDESK_REQUIRE_SERVICES=1) the skip guard of tests/skip_guard.py must be on."""
    from tests.skip_guard import require_skip_guard  # imported here: pytest_plugins loads it

    require_skip_guard(config)
