"""Wiring shared by the CLI and the daemon: engine and Desk from settings, accept, process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from maildesk.config import Settings
from maildesk.db import make_engine, require_current_schema, unit_of_work
from maildesk.desk import Desk
from maildesk.errors import ConfigError, TransientError
from maildesk.files import AttachmentStore
from maildesk.observe import source_of
from maildesk.outbound.render import Renderer
from maildesk.rules.spec import Rule, check_references, compile_rules
from maildesk.services.inbox import Stored, store_raw
from maildesk.services.origin import Accepted, AcceptFn, Origin
from maildesk.services.sync import sync_config
from maildesk.timing.calendar_config import calendars_from_config
from maildesk.timing.calendars import Calendar
from maildesk.timing.clock import Clock, SystemClock
from maildesk.timing.sla import SlaBook, SlaPolicy

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """The `[[calendars]]` and `[[rules]]` compiled, and every problem of them, one line each."""

    calendars: Mapping[str, Calendar]
    rules: tuple[Rule, ...]
    sla: SlaBook
    problems: list[str]


def compile_sla(settings: Settings, calendars: Mapping[str, Calendar]) -> SlaBook:
    """The `[[sla]]` policies with their calendars; one naming an unknown calendar is left out
    (`config check` names it)."""
    policies = []
    for entry in settings.sla:
        if entry.calendar not in calendars:
            continue
        spans = {"first_response": entry.first_response, "resolution": entry.resolution}
        spans["next_reply"] = entry.next_reply
        match = {key: frozenset(names) for key, names in entry.match if names}
        policies.append(
            SlaPolicy(
                name=entry.name,
                calendar=calendars[entry.calendar],
                targets={k: int(v.total_seconds()) // 60 for k, v in spans.items() if v},
                match=match,
                warn_at=entry.warn_at,
                escalate_on_breach=entry.escalate_on_breach,
            )
        )
    return SlaBook(tuple(policies))


def compile_policy(settings: Settings, renderer: Renderer) -> Policy:
    """Calendars and rules from the config, their names checked against the rest of it."""
    tables: Any = list(settings.calendars)
    calendars, problems = calendars_from_config(tables, default_timezone=settings.desk.timezone)
    rules, rule_problems = compile_rules(settings.rules)
    problems += rule_problems
    problems += check_references(
        rules,
        queues=settings.queue_names(),
        services=[s.name for s in settings.services],
        categories=[c.name for c in settings.categories],
        calendars=calendars,
        agents=[a.email for a in settings.agents],
        templates=renderer.template_names(),
        mailboxes=[m.name for m in settings.imap],
    )
    return Policy(calendars, rules, compile_sla(settings, calendars), problems)


def raw_policy_problems(data: Mapping[str, Any]) -> list[str]:
    """The calendars' and rules' own problems from the raw TOML, for a config whose other
    sections do not validate (their names cannot be checked then)."""
    _, problems = calendars_from_config(data.get("calendars", []))
    rules = data.get("rules", [])
    return problems + compile_rules(rules if isinstance(rules, list) else [rules])[1]


@dataclass(frozen=True)
class App:
    engine: Engine
    desk: Desk

    @property
    def settings(self) -> Settings:
        return self.desk.settings


def open_app(settings: Settings, *, clock: Clock | None = None, check_schema: bool = True) -> App:
    """Connect to the database (which must be migrated) and sync configured agents and queues."""
    secret = settings.desk.resolved_secret()
    if not secret:
        env = settings.desk.secret_env or "desk.secret_env"
        raise ConfigError(f"desk.secret: not set (set ${env} or desk.secret)")
    renderer = Renderer(template_override(settings))
    policy = compile_policy(settings, renderer)
    if policy.problems:
        raise ConfigError("; ".join(policy.problems))
    engine = make_engine(settings.database_url())
    if check_schema:
        require_current_schema(engine)
        with unit_of_work(engine) as session:
            sync_config(session, settings=settings)
    desk = Desk(
        settings=settings,
        clock=clock or SystemClock(),
        store=AttachmentStore(settings.path(settings.desk.attachments_dir)),
        secrets=(secret, *settings.desk.old_secrets),
        renderer=renderer,
        calendars=policy.calendars,
        rules=policy.rules,
        sla=policy.sla,
    )
    return App(engine=engine, desk=desk)


def template_override(settings: Settings) -> Path | None:
    directory = settings.outbound.templates_dir
    return settings.path(directory) if directory else None


def accept_raw(app: App, raw: bytes, origin: Origin) -> Stored:
    """Store raw bytes and commit: after this returns, the source may forget the mail."""
    with unit_of_work(app.engine) as session:
        stored = store_raw(session, raw=raw, origin=origin, now=app.desk.clock.now())
    app.desk.observer.accepted(source_of(origin.transport), duplicate=stored.duplicate)
    return stored


Mail = tuple[bytes, Origin]
GROUP_BYTES = 8 * 1024 * 1024  # mails read ahead to be stored in one commit, in bytes at most


def in_groups(raws: Iterable[bytes], limit: int | None = None) -> Iterator[list[bytes]]:
    """`raws` in order, in runs that add up to `limit` bytes (GROUP_BYTES) at most, a larger
    mail alone: what a reader holds to store together (`accept_together`)."""
    return runs_within(raws, len, GROUP_BYTES if limit is None else limit)


def runs_within(items: Iterable[T], size: Callable[[T], int], limit: int) -> Iterator[list[T]]:
    """`items` in order, in runs whose `size`s add up to `limit` at most, a larger one alone."""
    run: list[T] = []
    total = 0
    for item in items:
        if run and total + size(item) > limit:
            yield run
            run, total = [], 0
        run.append(item)
        total += size(item)
    if run:
        yield run


def accept_together(app: App, mails: Sequence[Mail]) -> list[Stored | Exception]:
    """Store several mails in one transaction and commit: after this returns, each source may
    forget its mail. When they do not commit together for a reason of the mails (not an
    outage, which raises), each is stored alone, and one that fails gets its error."""
    if len(mails) > 1:
        try:
            with unit_of_work(app.engine) as session:
                now = app.desk.clock.now()
                found = [store_raw(session, raw=r, origin=o, now=now) for r, o in mails]
        except TransientError:
            raise
        except Exception:
            log.warning("%d mails did not commit together; one by one", len(mails), exc_info=True)
        else:
            for (_, origin), stored in zip(mails, found, strict=True):
                app.desk.observer.accepted(source_of(origin.transport), duplicate=stored.duplicate)
            return list(found)
    return [_alone(app, raw, origin) for raw, origin in mails]


def accept_in_groups(app: App, raws: Iterable[bytes], origin: Origin) -> list[Stored]:
    """Store every mail, one commit a group (`in_groups`), in order; the first that cannot be
    stored raises (those stored before it, and the rest of its group, stay stored)."""
    stored: list[Stored] = []
    for group in in_groups(raws):
        for result in accept_together(app, [(raw, origin) for raw in group]):
            if isinstance(result, Exception):
                raise result
            stored.append(result)
    return stored


def _alone(app: App, raw: bytes, origin: Origin) -> Stored | Exception:
    try:
        return accept_raw(app, raw, origin)
    except Exception as exc:  # this mail's sender is told, the others' stand
        return exc


def async_accept(app: App) -> AcceptFn:
    """The AcceptFn transports call: the blocking commit runs in a worker thread, for the
    mails that came while the one before committed all together (one turn, one commit)."""
    from maildesk.together import Together  # here: `maildesk ingest` runs no event loop

    together: Together[Mail, Stored] = Together(partial(accept_together, app))

    async def accept(raw: bytes, origin: Origin) -> Accepted:
        stored = await together((raw, origin))
        return Accepted.DUPLICATE if stored.duplicate else Accepted.STORED

    return accept
