"""Configured queues and agents are mirrored into the database; operational state is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Agent, Queue
from maildesk.services.agents import add_agent, remove_agent, set_agent
from maildesk.services.contacts import find_agent
from maildesk.services.sync import sync_config
from maildesk.services.tickets import Actor
from tests.conftest import BASE_CONFIG, START, make_settings


def agents(session: Session) -> dict[str, tuple[Any, ...]]:
    rows = session.exec(select(Agent)).all()
    return {a.email: (a.name, a.role, a.level, a.queues, a.away, a.active) for a in rows}


def test_opening_the_app_mirrors_every_configured_queue_and_agent(app: App) -> None:
    with unit_of_work(app.engine) as session:
        queues = {q.name: q.addresses for q in session.exec(select(Queue))}

        assert queues == {"general": ["support@example.com"], "billing": ["billing@example.com"]}
        assert agents(session) == {
            "alice@example.com": ("Alice", "supervisor", 1, ["general", "billing"], False, True),
            "bob@example.com": ("Bob", "agent", 1, ["general"], False, True),
        }


def test_a_changed_config_updates_its_rows(app: App, tmp_path: Path, database_url: str) -> None:
    bob = {
        "email": "Bob@Example.com",
        "name": "Robert",
        "level": 2,
        "queues": ["billing"],
        "calendar": "office",
    }
    changed = make_settings(
        tmp_path,
        database_url,
        queues=[*BASE_CONFIG["queues"][:1], {"name": "billing", "addresses": ["pay@example.com"]}],
        agents=[BASE_CONFIG["agents"][0], bob],
        calendars=[{"name": "office"}],
    )

    with unit_of_work(app.engine) as session:
        sync_config(session, settings=changed)

    with unit_of_work(app.engine) as session:
        billing = session.exec(select(Queue).where(Queue.name == "billing")).one()
        assert billing.addresses == ["pay@example.com"]
        assert agents(session)["bob@example.com"] == (
            "Robert",
            "agent",
            2,
            ["billing"],
            False,
            True,
        )
        robert = find_agent(session, email="bob@example.com")
        assert robert is not None and robert.calendar == "office"


def test_availability_and_cli_agents_survive_a_sync(app: App) -> None:
    with unit_of_work(app.engine) as session:
        set_agent(session, email="bob@example.com", away=True, known_queues=["general"])
        add_agent(
            session,
            email="dora@example.com",
            name="Dora",
            role="agent",
            level=3,
            queues=["billing"],
            known_queues=["general", "billing"],
        )
    with unit_of_work(app.engine) as session:
        before = agents(session)

    with unit_of_work(app.engine) as session:
        sync_config(session, settings=app.settings)

    with unit_of_work(app.engine) as session:
        assert agents(session) == before
        assert before["bob@example.com"][4] is True  # still away


def test_a_configured_agent_deactivated_in_the_database_is_active_again(app: App) -> None:
    with unit_of_work(app.engine) as session:
        remove_agent(
            session,
            desk=app.desk,
            email="bob@example.com",
            actor=Actor("maildesk", "cli"),
            now=START,
        )
        assert find_agent(session, email="bob@example.com") is None

        sync_config(session, settings=app.settings)

        assert find_agent(session, email="bob@example.com") is not None  # not a stale snapshot
