"""`maildesk agent list|add|set|remove`."""

from __future__ import annotations

import typer

from maildesk.addresses import agent_role, signed_address
from maildesk.cli.output import emit
from maildesk.cli.root import state
from maildesk.config import Settings
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import Agent
from maildesk.services.agents import add_agent, list_agents, remove_agent, set_agent
from maildesk.services.tickets import Actor

agent_app = typer.Typer(help="Agents.", no_args_is_help=True)


def agent_view(agent: Agent, compose: str) -> dict[str, object]:
    return {
        "email": agent.email,
        "name": agent.name,
        "role": agent.role,
        "level": agent.level,
        "queues": agent.queues,
        "away": agent.away,
        "active": agent.active,
        "calendar": agent.calendar,
        "compose_address": compose,
    }


def refuse_configured(settings: Settings, email: str) -> None:
    """An agent from the config file is owned by it: changes there, not here (they'd revert).

    Availability (`--away/--back`) is operational state, not configuration: always settable.
    """
    if email.strip().lower() in {a.email.lower() for a in settings.agents}:
        raise InvalidInput(
            f"{email} is configured in the config file ([[agents]]); change it there"
        )


@agent_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Agents, with the signed address each can write to in order to start a ticket (#to)."""
    app = state(ctx).app()
    desk = app.settings.desk
    with unit_of_work(app.engine) as session:
        rows = [
            agent_view(
                a,
                signed_address(
                    desk_address=desk.address,
                    ref=f"{desk.ticket_prefix}-0",
                    secret=app.desk.secret,
                    role=agent_role(a.email),
                ),
            )
            for a in list_agents(session)
        ]
    columns = ("email", "name", "role", "level", "queues", "away", "active", "compose_address")
    emit(rows, as_json=as_json, title="Agents", columns=columns)


@agent_app.command("add")
def add_cmd(
    ctx: typer.Context,
    email: str,
    name: str = typer.Option("", "--name"),
    role: str = typer.Option("agent", "--role", help="agent|supervisor"),
    level: int = typer.Option(1, "--level", help="Support level 1-9."),
    queue: list[str] = typer.Option([], "--queue", help="A queue (repeat for several)."),
) -> None:
    """Add an agent beside those of the config file."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        add_agent(
            session,
            email=email,
            name=name,
            role=role,
            level=level,
            queues=queue,
            known_queues=app.settings.queue_names(),
        )
    typer.echo(f"added agent {email.lower()}")


@agent_app.command("set")
def set_cmd(
    ctx: typer.Context,
    email: str,
    name: str | None = typer.Option(None, "--name"),
    role: str | None = typer.Option(None, "--role"),
    level: int | None = typer.Option(None, "--level"),
    queue: list[str] | None = typer.Option(None, "--queue"),
    away: bool | None = typer.Option(None, "--away/--back", help="Availability."),
) -> None:
    """Change an added agent; anyone's availability (--away/--back)."""
    app = state(ctx).app()
    if any(option is not None for option in (name, role, level, queue or None)):
        refuse_configured(app.settings, email)
    with unit_of_work(app.engine) as session:
        set_agent(
            session,
            email=email,
            name=name,
            role=role,
            level=level,
            queues=queue or None,
            away=away,
            known_queues=app.settings.queue_names(),
        )
    typer.echo(f"updated agent {email.lower()}")


@agent_app.command("remove")
def remove_cmd(ctx: typer.Context, email: str) -> None:
    """Deactivate an agent; their tickets become unassigned."""
    app = state(ctx).app()
    refuse_configured(app.settings, email)
    with unit_of_work(app.engine) as session:
        remove_agent(
            session,
            desk=app.desk,
            email=email,
            actor=Actor("maildesk", "cli"),
            now=app.desk.clock.now(),
        )
    typer.echo(f"removed agent {email.lower()}")


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
