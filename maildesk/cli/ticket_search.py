"""`maildesk ticket search TEXT` and `maildesk ticket similar REF`: finding tickets."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

from maildesk.cli.output import emit, print_json
from maildesk.cli.root import state
from maildesk.db import read_only_unit
from maildesk.errors import InvalidInput
from maildesk.services.search import DEFAULT_LIMIT, Hit, hit_row, search_tickets
from maildesk.services.similar import SIMILAR_LIMIT, similar_row, similar_tickets
from maildesk.services.tickets import get_ticket

MATCH_STYLE = "bold reverse"


def _limit(limit: int) -> int:
    if limit < 1:
        raise InvalidInput(f"--limit: at least 1, not {limit}")
    return limit


def search_cmd(
    ctx: typer.Context,
    text: str,
    as_json: bool = typer.Option(False, "--json"),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", help="At most this many."),
) -> None:
    """Tickets whose subjects and messages hold every word of TEXT, best first."""
    app = state(ctx).app()
    with read_only_unit(app.engine) as session:
        hits = search_tickets(session, text=text, limit=_limit(limit))
    if as_json:
        print_json([hit_row(hit) for hit in hits])
        return
    console = Console(highlight=False, soft_wrap=True)
    for hit in hits:
        console.print(hit_lines(hit))


def hit_lines(hit: Hit) -> Text:
    """`TKT-3  open  4.21  Printer toner`, then the snippet with the matched words styled."""
    head = f"{hit.ref}  {hit.status}  {hit.score:.4g}  {hit.subject}\n"
    text = Text(head)
    text.append("    ")
    for fragment in hit.snippet:
        text.append(fragment.text, style=MATCH_STYLE if fragment.matched else "")
    return text


def similar_cmd(
    ctx: typer.Context,
    ref: str,
    as_json: bool = typer.Option(False, "--json"),
    limit: int = typer.Option(SIMILAR_LIMIT, "--limit", help="At most this many."),
) -> None:
    """The tickets most alike REF, with a score from 0 to 1 (TF-IDF, cosine)."""
    app = state(ctx).app()
    with read_only_unit(app.engine) as session:
        ticket = get_ticket(session, ref=ref)
        found = similar_tickets(session, ticket=ticket, limit=_limit(limit))
        title = f"Tickets like {ticket.ref}"
    columns = ("ref", "score", "status", "subject")
    emit([similar_row(s) for s in found], as_json=as_json, title=title, columns=columns)


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)
    app.command("similar")(similar_cmd)
