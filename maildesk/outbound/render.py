"""Mail templates rendered in a Jinja2 sandbox: what came from a message is a variable, never code.

Each template is three files: `<name>.subject.txt`, `<name>.txt` and `<name>.html` (autoescaped).
Jinja2 is imported when the first template is rendered: ingest queues drafts and renders none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "templates"
PARTS = ("subject.txt", "txt", "html")

_CUSTOMER: dict[str, Any] = {
    "desk_name": "Example Support",
    "ref": "TKT-42",
    "subject": "Printer on fire",
    "requester_name": "Carol Customer",
}
_AGENT = _CUSTOMER | {"agent_name": "Alice", "requester_email": "carol@acme.test"}
_AGENT |= {"priority": "normal"}
_SLA = _AGENT | {"target": "first response", "due": "2026-11-23 13:00 UTC"}
_TEXT = {"text": "Help, it burns.\nSince this morning."}
_RATING_LINKS = {
    "rating_addresses": [
        f"support+TKT-42.{score}.abcdefghijklmnop@example.com" for score in range(1, 6)
    ],
    "reply_subject": "Re: [TKT-42] Printer on fire",
}
_RATED = {
    "score": 2,
    "comment": "Slow, and the printer\nstill smells of smoke.",
    "rater_name": "Carol Customer",
    "rater_email": "carol@acme.test",
}

#: A representative context per template: what `check_templates` renders each one with.
SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "ack": _CUSTOMER,
    "agent_reply": _CUSTOMER
    | _RATING_LINKS
    | {
        "agent_name": "Alice",
        "text": "We have sent a technician.",
        "history": [
            {"author_name": "Carol Customer", "date": "2026-11-23 09:00 UTC", "text": "Help!"}
        ],
        "status": "resolved",
        "signed_off": False,
        "reply": True,
    },
    "notify_new": _AGENT | _TEXT | {"queue": "general", "to_you": True},
    "notify_reply": _AGENT
    | _TEXT
    | {"author_name": "Carol Customer", "author_email": "carol@acme.test", "status": "open"},
    "notify_assigned": _AGENT
    | _TEXT
    | {"assigned_by": "Bob", "assignee_name": "Alice", "to_you": True},
    "status_changed": _CUSTOMER | {"status": "resolved"},
    "command_error": {
        "desk_name": "Example Support",
        "ref": "TKT-42",
        "subject": "Printer on fire",
        "agent_name": "Alice",
        "errors": [{"line": "#status done", "reason": "unknown status 'done'"}],
    },
    "spoof_warning": {
        "desk_name": "Example Support",
        "ref": "TKT-42",
        "subject": "Printer on fire",
        "agent_name": "Alice",
        "claimed_from": "alice@example.com",
        "inbox_item": 7,
        "mail_subject": "Re: [TKT-42] Printer on fire",
    },
    "rating_request": _CUSTOMER | _RATING_LINKS,
    "rating_thanks": _CUSTOMER | _RATED,
    "rating_alert": _AGENT | _RATED,
    "sla_warning": _SLA | {"remaining": "48 minutes"},
    "sla_breach": _SLA | {"overdue": "5 minutes", "level": 2},
    "escalated": _AGENT
    | {
        "escalated_by": "Bob",
        "from_level": 1,
        "to_level": 2,
        "reason": "The printer is a leased model: level 2 has the contract.",
        "assignee_name": "Dana",
        "to_you": False,
    },
    "snooze_wakeup": _AGENT | {"snoozed_until": "2026-11-24 09:00 UTC"},
    "auto_close": _CUSTOMER | {"waited": "3 days", "was": "resolved"},
    "pending_reminder": _CUSTOMER | {"waited": "5 days", "closes_in": "5 days"},
}
TEMPLATE_NAMES = tuple(SAMPLE_CONTEXTS)

#: What a macro (`macros/<name>.txt`, inserted by `#macro <name>`) is rendered with.
MACRO_SAMPLE_CONTEXT: dict[str, Any] = _CUSTOMER | {
    "requester_email": "carol@acme.test",
    "status": "open",
    "priority": "normal",
    "queue": "general",
}


@dataclass(frozen=True)
class Rendered:
    subject: str  # one line, whitespace collapsed
    text: str
    html: str


def quote_lines(text: str) -> str:
    """Plain-text quoting: every line prefixed with `> `."""
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def nl2br(text: str) -> Markup:
    """Escape, then keep the line breaks of plain text in HTML."""
    from markupsafe import Markup, escape

    lines = str(escape(text)).splitlines()
    return Markup("<br>\n".join(lines))


def mailto(address: str, subject: str = "", body: str = "") -> str:
    """A `mailto:` URI (RFC 6068) prefilling a reply; every part percent-encoded."""
    query = f"subject={quote(subject, safe='')}&body={quote(str(body), safe='')}"
    return f"mailto:{quote(address, safe='@+')}?{query}"


class Renderer:
    """Loads `<override_dir>/<file>` first, then the built-in `maildesk/templates/<file>`.

    The context of every template has `desk_name`, `ref` (e.g. "TKT-42", None only for a
    command error outside any ticket) and `subject` (the ticket's subject), plus:

    =================  ==============================================================
    template           further context keys
    =================  ==============================================================
    ack                requester_name
    agent_reply        requester_name, agent_name, text, history: [{author_name, date,
                       text}] — public messages only, newest first; status (the
                       ticket's status: "resolved"/"closed" when this reply did so);
                       signed_off (the text ends with the agent's own sign-off: the
                       template does not sign with their name again); reply (False
                       for the first mail of a ticket an agent started: no "Re:");
                       rating_addresses, reply_subject (as rating_request when the
                       reply resolves the ticket; else [] and "")
    notify_new         agent_name, requester_name, requester_email, queue, priority, text,
                       to_you (the reader is the ticket's assignee)
    notify_reply       agent_name, requester_name, requester_email, author_name,
                       author_email, status, text
    notify_assigned    agent_name, assigned_by, assignee_name ("nobody" when
                       unassigned), to_you (False for a watcher), requester_name,
                       requester_email, priority, text
    status_changed     requester_name, status ("resolved" | "closed" | other status)
    command_error      agent_name, errors: [{line, reason}]
    spoof_warning      agent_name, claimed_from (the agent's address the mail gave),
                       inbox_item (the held item's id), mail_subject
    rating_request     requester_name, rating_addresses (five signed rating addresses,
                       the score's at [score - 1]: a mail to one rates with it),
                       reply_subject (the ticket's subject as a tagged reply)
    rating_thanks      requester_name, rater_name, rater_email (who rated), score (1-5),
                       comment ("" when none)
    rating_alert       agent_name, requester_name, requester_email, priority,
                       rater_name, rater_email, score, comment
    sla_warning        agent_name, requester_name, requester_email, priority,
                       target ("first response" | "resolution"), due, remaining
    sla_breach         agent_name, requester_name, requester_email, priority, target,
                       due, overdue, level (the support level now responsible)
    escalated          agent_name, requester_name, requester_email, priority,
                       escalated_by, from_level, to_level, reason (the escalating
                       agent's text; "" when they wrote none), assignee_name (the
                       new level's assignee; "" when none), to_you (the reader is it)
    snooze_wakeup      agent_name, requester_name, requester_email, priority,
                       snoozed_until
    auto_close         requester_name, was ("resolved": nobody rated it; "pending":
                       nobody answered), waited (how long, e.g. "3 days")
    pending_reminder   requester_name, waited (how long it has been pending, e.g.
                       "5 days"), closes_in (when it will be closed unanswered; ""
                       when it will not be)
    =================  ==============================================================

    Macros (`macros/<name>.txt`, one text part) get `MACRO_SAMPLE_CONTEXT`'s keys: desk_name,
    ref, subject, requester_name, requester_email, status, priority, queue.

    Dates and durations are preformatted strings (the caller knows the desk's time zone).
    """

    def __init__(self, override_dir: Path | None = None, *, builtin_dir: Path = BUILTIN_DIR):
        self.override_dir = override_dir
        self.builtin_dir = builtin_dir

    @cached_property
    def env(self) -> ImmutableSandboxedEnvironment:
        """The sandboxed environment, made (and Jinja2 imported) when first needed."""
        from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        folders = [f for f in (self.override_dir, self.builtin_dir) if f is not None]
        env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(("html",), default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["quote"] = quote_lines
        env.filters["nl2br"] = nl2br
        env.globals["mailto"] = mailto
        return env

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Render the three parts; raises jinja2 errors (SecurityError, UndefinedError, …)."""
        subject = self.env.get_template(f"{name}.subject.txt").render(context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"{name}.txt").render(context),
            html=self.env.get_template(f"{name}.html").render(context),
        )

    def render_file(self, filename: str, context: Mapping[str, Any]) -> str:
        """One template file rendered in the sandbox (macros: `macros/<name>.txt`)."""
        return self.env.get_template(filename).render(context).strip("\n")

    def template_names(self) -> list[str]:
        """Every mail template there is: the built-in ones and those of the override directory."""
        folders = [f for f in (self.override_dir, self.builtin_dir) if f is not None]
        found = {
            p.name.removesuffix(".subject.txt") for f in folders for p in f.glob("*.subject.txt")
        }
        return sorted(found | set(TEMPLATE_NAMES))

    def macro_names(self) -> list[str]:
        """Every macro the override directory or the built-ins provide, sorted."""
        folders = [f / "macros" for f in (self.override_dir, self.builtin_dir) if f is not None]
        return sorted({p.stem for folder in folders for p in folder.glob("*.txt") if p.is_file()})

    def origin(self, filename: str) -> Path | None:
        """Which directory provides `filename`: the override, the built-ins, or neither."""
        for folder in (self.override_dir, self.builtin_dir):
            if folder is not None and (folder / filename).is_file():
                return folder
        return None


def _check_part(renderer: Renderer, filename: str, context: Mapping[str, Any]) -> str | None:
    from jinja2 import TemplateNotFound, TemplateSyntaxError

    try:
        renderer.render_file(filename, context)
    except TemplateNotFound as exc:
        return f"template {exc.name}: missing (neither in the override directory nor built in)"
    except TemplateSyntaxError as exc:
        return f"template {exc.filename or filename}:{exc.lineno}: {exc.message}"
    except Exception as exc:  # an operator's template may fail in any way
        return f"template {filename}: {type(exc).__name__}: {exc}"
    return None


def check_templates(renderer: Renderer) -> list[str]:
    """One line per missing or broken template part, rendered with a sample context."""
    problems: list[str] = []
    override = renderer.override_dir
    if override is not None and not override.is_dir():
        problems.append(f"templates override directory {override} does not exist")
    for name in TEMPLATE_NAMES:
        for part in PARTS:
            problem = _check_part(renderer, f"{name}.{part}", SAMPLE_CONTEXTS[name])
            if problem:
                problems.append(problem)
        origins = {renderer.origin(f"{name}.{part}") for part in PARTS}
        if override is not None and override in origins and len(origins) > 1:
            problems.append(
                f"template {name}: the override directory has only some of "
                f"{', '.join(f'{name}.{p}' for p in PARTS)}; the others are built in"
            )
    return problems + check_macros(renderer)


def check_macros(renderer: Renderer) -> list[str]:
    """One line per macro that fails to render in the sandbox as `#macro` would render it."""
    found = (
        _check_part(renderer, f"macros/{name}.txt", MACRO_SAMPLE_CONTEXT)
        for name in renderer.macro_names()
    )
    return [problem for problem in found if problem]
