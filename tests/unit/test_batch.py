"""Several mails in one transaction: what the desk does is what it does one mail at a time, a
mail that crashes fails alone, and an outage leaves the whole batch for a retry."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col, func, select

from bench.corpus import generate
from maildesk.addresses import agent_role, signed_address
from maildesk.app import App, accept_raw, open_app
from maildesk.db import make_engine
from maildesk.errors import TransientError
from maildesk.mail import InboundMail, parse_mail
from maildesk.models import Contact, InboxItem, Message, OutboxItem, Ticket
from maildesk.observe import Processed
from maildesk.pipeline import batch, parse_pool
from maildesk.pipeline.batch import _runs, drain, process_batch
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.large_mail import LargeMailGate
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.pipeline.stages import parse as parse_stage
from maildesk.pipeline.table import HANDLERS, Handler
from maildesk.pipeline.work import StageEnv, Step, Work
from maildesk.services import inbox
from maildesk.services.origin import Origin
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
from tests.mails import mail, sample

PIPE = Origin(transport="pipe", envelope_to=("support@example.com",))
# differ between two runs of the same mails: the desk's own Message-IDs (random) and what
# carries them (an outbox row's composed bytes and draft)
ASIDE = {"outboxitem": {"message_id", "raw", "spec"}}


def accept_all(app: App, mails: list[bytes]) -> list[int]:
    return [accept_raw(app, raw, PIPE).item_id for raw in mails]


Aside = dict[str, set[str]]


def dump(engine: Engine, more: Aside | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, without what differs between two runs by design."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            aside = ASIDE.get(table.name, set()) | (more or {}).get(table.name, set())
            columns = [c for c in table.columns if c.name not in aside]
            query = table.select().with_only_columns(*columns).order_by(*table.primary_key)
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found


@contextmanager
def desk_on(url: str, base_dir: Path, **overrides: Any) -> Iterator[App]:
    app = open_app(make_settings(base_dir, url, **overrides), clock=FixedClock(START))
    try:
        yield app
    finally:
        app.engine.dispose()


def empty_again(url: str, request: pytest.FixtureRequest) -> None:
    """The test database as the fixture gave it: migrated, no rows, counters at one."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "-*"):
            leftover.unlink()  # the WAL of the run before
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return
    engine = make_engine(url)
    names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def run_corpus(
    url: str,
    base_dir: Path,
    mails: list[bytes],
    process: Callable[[App, list[int]], object],
    aside: Aside | None = None,
    **overrides: Any,
) -> dict[str, list[tuple[Any, ...]]]:
    with desk_on(url, base_dir, **overrides) as app:
        process(app, accept_all(app, mails))
        return dump(app.engine, aside)


def one_by_one(app: App, item_ids: list[int]) -> None:
    for item_id in item_ids:
        assert process_one(app.engine, app.desk, item_id=item_id) is not None


def in_batches_of_64(app: App, item_ids: list[int]) -> None:
    assert len(drain(app.engine, app.desk, batch=64)) == len(item_ids)


def test_a_batch_gives_what_one_by_one_gives_on_the_bench_corpus(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    mails = generate(200)
    single = run_corpus(database_url, tmp_path / "single", mails, one_by_one)
    empty_again(database_url, request)

    batched = run_corpus(database_url, tmp_path / "batched", mails, in_batches_of_64)

    assert len(single["ticket"]) == 120 and len(single["message"]) >= 200  # it did something
    assert len(single["outboxitem"]) > 0 and len(single["event"]) > 0
    for name, rows in single.items():
        assert batched[name] == rows, f"table {name} differs"


def test_a_batch_assigns_round_robin_as_one_by_one_does(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The agents are read once per batch, not once per mail: the turns come out the same."""
    mails = generate(60)
    general = {"name": "general", "addresses": ["support@example.com"], "assignment": "round-robin"}
    queues = [general, {"name": "billing", "addresses": ["billing@example.com"]}]
    single = run_corpus(database_url, tmp_path / "single", mails, one_by_one, queues=queues)
    empty_again(database_url, request)

    batched = run_corpus(database_url, tmp_path / "batched", mails, in_batches_of_64, queues=queues)

    assignees = {row[0] for row in _assignees(single)}
    assert len(assignees) == 2  # alice and bob took turns
    for name, rows in single.items():
        assert batched[name] == rows, f"table {name} differs"


def _assignees(tables: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    index = [c.name for c in Ticket.__table__.columns].index("assignee_id")  # type: ignore[attr-defined]
    return [(row[index],) for row in tables["ticket"] if row[index] is not None]


def holding_on(word: str) -> Handler:
    """A handler that holds a mail whose subject has `word`, as a rule may: after `store`, so
    its ticket is written and then taken back."""

    def run(work: Work, env: StageEnv) -> Step:
        return (hold("a rule wants a look") if word in work.parsed().subject else CONTINUE), work

    return Handler("halt", run)


def every_kind_of_mail() -> list[bytes]:
    """Mails that end every way a mail can end, each followed by one that creates a ticket."""
    return [
        mail(subject="First", message_id="a1@acme.test"),
        mail(subject="Please hold me", message_id="h1@acme.test"),
        mail(subject="Second", message_id="b1@acme.test", sender="dan@partner.test"),
        mail(subject="Re: First", message_id="a2@acme.test", in_reply_to="a1@acme.test"),
        mail(subject="Cheap pills", sender="spammer@example.net"),
        sample("vacation_autoreply.eml"),
        mail(subject="A poisoned one", message_id="p1@acme.test"),
        mail(subject="Third", message_id="c1@acme.test", sender="erin@other.test"),
        mail(subject="Re: Second", message_id="b2@acme.test", in_reply_to="b1@acme.test"),
    ]


def test_held_rejected_dropped_and_failed_mails_in_a_batch_end_as_they_do_one_by_one(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    mails = every_kind_of_mail()
    handlers = after_store(holding_on("hold me"), crashing_on("poison", boom))
    outcomes: dict[str, list[str]] = {}

    def single(app: App, item_ids: list[int]) -> None:
        found = [process_one(app.engine, app.desk, item_id=i, handlers=handlers) for i in item_ids]
        outcomes["single"] = [o.outcome for o in found if o is not None]

    def batched(app: App, item_ids: list[int]) -> None:
        found = process_batch(app.engine, app.desk, handlers=handlers)
        outcomes["batched"] = [o.outcome for o in found]

    tracebacks = {"inboxitem": {"error"}}  # the same crash, raised through other frames
    expected = run_corpus(database_url, tmp_path / "single", mails, single, tracebacks)
    empty_again(database_url, request)
    found = run_corpus(database_url, tmp_path / "batched", mails, batched, tracebacks)

    assert set(outcomes["single"]) == {
        "created",
        "appended",
        "held",
        "rejected",
        "dropped",
        "failed",
    }
    assert outcomes["batched"] == outcomes["single"]
    for name, rows in expected.items():
        assert found[name] == rows, f"table {name} differs"


# --- a mail that crashes ------------------------------------------------------------------


def crashing_on(word: str, crash: Callable[[StageEnv], None]) -> Handler:
    """A handler that runs `crash` for a mail whose subject has `word`: after `store`, so the
    mail has written its ticket and message by then."""

    def run(work: Work, env: StageEnv) -> Step:
        if word in work.parsed().subject:
            crash(env)
        return CONTINUE, work

    return Handler("crash", run)


def boom(env: StageEnv) -> None:
    raise RuntimeError("boom: poisoned")


def after_store(*extra: Handler) -> tuple[Handler, ...]:
    at = [handler.name for handler in HANDLERS].index("store") + 1
    return (*HANDLERS[:at], *extra, *HANDLERS[at:])


def five_mails(app: App, poisoned: int) -> list[int]:
    subjects = [f"Question {n}" for n in range(5)]
    subjects[poisoned] = "Question poisoned"
    return accept_all(
        app, [mail(subject=s, message_id=f"q{n}@acme.test") for n, s in enumerate(subjects)]
    )


def item_reads(app: App) -> list[str]:
    """The statements that read inbox items' rows, as the engine sends them (kept listening)."""
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT inboxitem.id, inboxitem.raw"):
            reads.append(statement)

    event.listen(app.engine, "before_cursor_execute", seen)
    return reads


def test_a_batch_reads_its_mails_in_one_statement_not_one_a_mail(app: App) -> None:
    ids = five_mails(app, poisoned=2)
    reads = item_reads(app)

    outcomes = process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))

    assert [o.outcome for o in outcomes] == ["created"] * 5
    assert len(reads) == 1


def test_a_batch_settles_its_mails_in_one_statement_as_it_commits(app: App) -> None:
    ids = five_mails(app, poisoned=2)
    settles: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _c: Any, many: bool) -> None:
        if statement.startswith("UPDATE inboxitem SET state"):
            settles.append(many)

    event.listen(app.engine, "before_cursor_execute", seen)
    outcomes = process_batch(
        app.engine, app.desk, item_ids=ids, handlers=after_store(crashing_on("poison", boom))
    )

    assert [o.outcome for o in outcomes] == ["created", "created", "failed", "created", "created"]
    assert settles == [False, True]  # the failed one at once, the four others at the commit
    assert [state for state, _, _ in items(app)] == ["processed"] * 2 + ["failed"] + [
        "processed"
    ] * 2


def test_mails_past_what_a_batch_reads_ahead_are_read_one_by_one(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = five_mails(app, poisoned=2)
    with Session(app.engine) as session:
        sizes = session.exec(select(InboxItem.size).order_by(col(InboxItem.id))).all()
    monkeypatch.setattr(batch, "READ_BYTES", sizes[0] + sizes[1])  # the first two fit
    reads = item_reads(app)

    outcomes = process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))

    assert [o.outcome for o in outcomes] == ["created"] * 5
    assert len(reads) == 1 + 3
    assert count(app, Ticket) == 5


def items(app: App) -> list[tuple[str, str | None, int]]:
    with Session(app.engine) as session:
        found = session.exec(
            select(InboxItem.state, InboxItem.error, InboxItem.attempts).order_by(col(InboxItem.id))
        )
        return [(state, error, attempts) for state, error, attempts in found]


def count(app: App, model: type[SQLModel]) -> int:
    with Session(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_poisoned_mail_in_the_middle_of_a_batch_fails_alone_and_the_rest_commit(
    app: App,
) -> None:
    ids = five_mails(app, poisoned=2)

    outcomes = process_batch(
        app.engine, app.desk, handlers=after_store(crashing_on("poison", boom))
    )

    assert [(o.item_id, o.outcome) for o in outcomes] == list(
        zip(ids, ["created", "created", "failed", "created", "created"], strict=True)
    )
    assert outcomes[2].reason == "RuntimeError: boom: poisoned"
    states = items(app)
    assert [(state, attempts) for state, _, attempts in states] == [
        ("processed", 1),
        ("processed", 1),
        ("failed", 1),
        ("processed", 1),
        ("processed", 1),
    ]
    error = states[2][1]
    assert error is not None and error.startswith("Traceback (most recent call last)")
    assert "boom: poisoned" in error
    assert count(app, Ticket) == 4 and count(app, Message) == 4  # its ticket went with it


def test_a_watcher_added_between_two_mails_of_a_batch_hears_the_next_reply(app: App) -> None:
    """A new ticket's notices do not ask who watches it (no one can yet); a later mail of the
    same batch, a reply after an agent's `#watch`, asks again."""
    ref = f"{app.settings.desk.ticket_prefix}-1"  # the desk's first ticket
    subject = f"Re: [{ref}] Printer on fire"
    ids = accept_all(
        app,
        [
            mail(message_id="m1@acme.test"),
            agent_writes(app, ref, "Bob <bob@example.com>", "#watch", subject=subject),
            agent_writes(app, ref, "Alice <alice@example.com>", "#assign me", subject=subject),
            mail(subject=subject, body="Now it smokes.", in_reply_to="m1@acme.test"),
        ],
    )

    outcomes = process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))

    assert [o.outcome for o in outcomes][::3] == ["created", "appended"]
    assert told_of(app, "Now it smokes.") == ["alice@example.com", "bob@example.com"]


def test_only_a_reply_asks_who_watches_its_ticket(app: App) -> None:
    asked: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM watcher" in statement:
            asked.append(statement)

    new, reply = accept_all(
        app, [mail(message_id="m1@acme.test"), mail(in_reply_to="m1@acme.test")]
    )
    event.listen(app.engine, "before_cursor_execute", seen)
    assert process_one(app.engine, app.desk, item_id=new) is not None
    assert asked == []  # the agents were told of the new ticket all the same
    assert process_one(app.engine, app.desk, item_id=reply) is not None
    assert len(asked) == 1


def agent_writes(app: App, ref: str, sender: str, body: str, **fields: Any) -> bytes:
    """An agent's mail to the ticket's address signed for them."""
    email = sender.rpartition("<")[2].rstrip(">")
    to = signed_address(
        desk_address="support@example.com", ref=ref, secret=app.desk.secret, role=agent_role(email)
    )
    return mail(sender=sender, to=to, body=body, **fields)


def told_of(app: App, text: str) -> list[str]:
    """Who the agents' notices carrying `text` went to."""
    with Session(app.engine) as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.kind == "notify")).all()
    return sorted(
        to
        for row in rows
        if (row.spec or {}).get("context", {}).get("text") == text
        for to in row.recipients
    )


def duplicate_contact(env: StageEnv) -> None:
    """Writes that break a unique key: the database refuses them at the savepoint's flush."""
    env.session.add(Contact(email="carol@acme.test", name="Carol again", created_at=env.now))


def test_a_mail_whose_writes_the_database_refuses_fails_alone_and_the_rest_commit(
    app: App,
) -> None:
    ids = five_mails(app, poisoned=1)

    outcomes = process_batch(
        app.engine, app.desk, handlers=after_store(crashing_on("poison", duplicate_contact))
    )

    assert [(o.item_id, o.outcome) for o in outcomes] == list(
        zip(ids, ["created", "failed", "created", "created", "created"], strict=True)
    )
    assert outcomes[1].reason is not None and "IntegrityError" in outcomes[1].reason
    assert [state for state, _, _ in items(app)] == [
        "processed",
        "failed",
        "processed",
        "processed",
        "processed",
    ]
    assert count(app, Ticket) == 4


def outage(env: StageEnv) -> None:
    raise TransientError("database unavailable: the server went away")


def test_an_outage_in_the_middle_of_a_batch_leaves_every_item_received_for_a_retry(
    app: App,
) -> None:
    ids = five_mails(app, poisoned=3)
    tries = after_store(crashing_on("poison", outage))

    with pytest.raises(TransientError):
        process_batch(app.engine, app.desk, handlers=tries)

    assert [state for state, _, _ in items(app)] == ["received"] * 5
    assert count(app, Ticket) == 0 and count(app, Message) == 0
    again = process_batch(app.engine, app.desk)  # the database is back
    assert [o.item_id for o in again] == ids
    assert [state for state, _, attempts in items(app)] == ["processed"] * 5


def failing_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The one statement that writes a batch's settled items fails the first time."""
    statement = inbox._SETTLE
    write = statement.execute_many
    met: list[bool] = []

    def once(session: Session, rows: Any) -> None:
        if not met:
            met.append(True)
            raise error
        write(session, rows)

    monkeypatch.setattr(statement, "execute_many", once)


def test_a_batch_whose_settled_states_cannot_be_written_is_done_again_one_by_one(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = five_mails(app, poisoned=3)
    failing_once(monkeypatch, RuntimeError("the write went wrong"))

    outcomes = process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))

    assert [(o.item_id, o.outcome) for o in outcomes] == [(i, "created") for i in ids]
    assert [(state, attempts) for state, _, attempts in items(app)] == [("processed", 1)] * 5
    assert count(app, Ticket) == 5


def test_an_outage_as_a_batch_settles_its_items_leaves_every_item_received(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_mails(app, poisoned=3)
    failing_once(monkeypatch, TransientError("database unavailable: the server went away"))

    with pytest.raises(TransientError):
        process_batch(app.engine, app.desk)

    assert [state for state, _, _ in items(app)] == ["received"] * 5
    assert count(app, Ticket) == 0 and count(app, Message) == 0


class DeadlockDetected(Exception):
    """What psycopg raises when PostgreSQL picks this transaction to break a deadlock."""

    sqlstate = "40P01"


def deadlocking_once() -> Callable[[StageEnv], None]:
    met: list[bool] = []

    def deadlock(env: StageEnv) -> None:
        if not met:
            met.append(True)
            raise OperationalError("UPDATE contact …", {}, DeadlockDetected("deadlock detected"))

    return deadlock


def test_a_batch_broken_by_a_deadlock_with_another_worker_goes_through_one_by_one(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    ids = five_mails(app, poisoned=3)
    handlers = after_store(crashing_on("poison", deadlocking_once()))

    outcomes = process_batch(app.engine, app.desk, handlers=handlers)

    assert [(o.item_id, o.outcome) for o in outcomes] == [(i, "created") for i in ids]
    assert [(state, attempts) for state, _, attempts in items(app)] == [("processed", 1)] * 5
    assert count(app, Ticket) == 5
    assert "a batch of 5 inbox items did not commit" in caplog.text


# --- told after the commit ----------------------------------------------------------------


class Witness:
    """An observer that looks, from its own connection, at what is committed when told."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[int, str, str]] = []

    def processed(self, mail: Processed) -> None:
        with Session(self.engine) as session:
            item = session.get(InboxItem, mail.item_id)
            assert item is not None and mail.seconds > 0
            self.seen.append((mail.item_id, mail.outcome, item.state))

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def test_each_mail_is_told_once_its_batch_has_committed(app: App) -> None:
    ids = five_mails(app, poisoned=4)
    witness = Witness(app.engine)
    desk = replace(app.desk, observer=witness)

    process_batch(app.engine, desk, handlers=after_store(crashing_on("poison", boom)))

    assert witness.seen == [
        (ids[0], "created", "processed"),
        (ids[1], "created", "processed"),
        (ids[2], "created", "processed"),
        (ids[3], "created", "processed"),
        (ids[4], "failed", "failed"),
    ]


def test_a_batch_takes_only_the_items_it_is_given_and_at_most_its_limit(app: App) -> None:
    ids = five_mails(app, poisoned=0)

    first: list[Outcome] = process_batch(app.engine, app.desk, item_ids=ids[1:], limit=2)
    nothing = process_batch(app.engine, app.desk, item_ids=ids[1:3])

    assert [o.item_id for o in first] == ids[1:3]
    assert nothing == []
    assert [state for state, _, _ in items(app)] == ["received", "processed", "processed"] + [
        "received"
    ] * 2


def test_imported_history_in_a_batch_is_closed_before_open_since_and_sends_nothing(
    app: App,
) -> None:
    raws = [mail(subject=f"Old {n}", message_id=f"old{n}@acme.test") for n in range(3)]
    ids = [accept_raw(app, raw, Origin(transport="import")).item_id for raw in raws]

    since = START + timedelta(days=1)
    outcomes = process_batch(app.engine, app.desk, item_ids=ids, open_since=since)

    assert [o.outcome for o in outcomes] == ["created"] * 3
    with Session(app.engine) as session:
        statuses = session.exec(select(Ticket.status)).all()
        assert [str(s) for s in statuses] == ["closed"] * 3  # older than --open-since
        assert session.exec(select(func.count()).select_from(Message)).one() == 3
    assert count(app, OutboxItem) == 0


def test_small_mails_go_in_runs_of_a_batch_and_a_large_one_alone() -> None:
    waiting = [(1, 10), (2, 10), (3, 10), (4, 5_000), (5, 10)]
    runs = list(_runs(waiting, LargeMailGate(threshold=1_000), batch=2))

    assert runs == [([1, 2], None), ([3], None), ([4], 5_000), ([5], None)]


# --- parsing ahead in the parse pool ------------------------------------------------------


@pytest.fixture
def inline_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The mails the parse stage parses in this process (not taken from the parse pool)."""
    parsed: list[bytes] = []
    monkeypatch.setattr(parse_stage, "parse_mail", inline_parses_counter(parsed))
    return parsed


def with_unparseable(mails: list[bytes]) -> list[bytes]:
    """The mails, with one nested too deep to parse and one over the size limit among them."""
    too_deep = b"From: carol@acme.test\r\nSubject: deep\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n) for n in range(101)
    )
    return [*mails[:20], too_deep, mail(body="x" * 300_000), *mails[20:]]


def test_a_batch_parsed_ahead_in_the_pool_gives_what_one_by_one_gives(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, inline_parses: list[bytes]
) -> None:
    mails = with_unparseable(generate(60))
    pool_on = {"worker": {"parse_processes": 1}, "smtp": {"max_message_bytes": 200_000}}
    single = run_corpus(database_url, tmp_path / "single", mails, one_by_one, **pool_on)
    empty_again(database_url, request)
    inline_parses.clear()

    warm(parse_pool.parse_pool(1))
    batched = run_corpus(database_url, tmp_path / "batched", mails, in_batches_of_64, **pool_on)

    assert parse_pool.parse_pool(1).ready()  # the batch could hand its mails over
    held = [row for row in single["inboxitem"] if "held" in row]
    assert len(held) == 2, "the unparseable mail and the oversize one are held"
    for name, rows in single.items():
        assert batched[name] == rows, f"table {name} differs"


def dying(raws: list[bytes], max_depth: int) -> list[parse_pool.Parsed]:
    os._exit(1)  # a parser process killed (out of memory, a signal)


def unpicklable(raws: list[bytes], max_depth: int) -> list[object]:
    return [lambda: None for _ in raws]


@pytest.mark.parametrize("sabotage", [dying, unpicklable], ids=["dies", "unpicklable"])
def test_when_the_pool_fails_every_mail_is_parsed_inline_and_none_is_lost(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    inline_parses: list[bytes],
    sabotage: Callable[..., object],
) -> None:
    warm(parse_pool.parse_pool(1))
    monkeypatch.setattr(parse_pool, "parse_chunk", sabotage)
    mails = [mail(subject=f"Question {n}", message_id=f"q{n}@acme.test") for n in range(12)]
    with desk_on(database_url, tmp_path, worker={"parse_processes": 1}) as app:
        ids = accept_all(app, mails)

        outcomes = process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))

    assert [o.outcome for o in outcomes] == ["created"] * 12
    assert len(inline_parses) == 12


def test_what_the_pool_parsed_is_what_the_stage_would_parse_held_mails_too(
    pool: parse_pool.ParsePool,
) -> None:
    raws = list(enumerate(with_unparseable([mail(subject="First"), mail(subject="Second")]), 1))
    raws.append((9, b"\x00\xff" * 100))  # no headers at all

    taken = taken_when_parsed(pool, raws)

    assert taken == [parse_pool.parse(raw, 100) for _, raw in raws[1:]]
    assert [each.unparseable for each in taken if each.mail is None] == [
        "MIME nesting 102 deeper than the limit 100",
        "no mail headers found",
    ]


def test_what_the_pool_failed_to_give_back_is_left_to_the_stage(
    monkeypatch: pytest.MonkeyPatch, pool: parse_pool.ParsePool
) -> None:
    monkeypatch.setattr(parse_pool, "parse_chunk", unpicklable)
    raws = [(n, mail(subject=f"Question {n}")) for n in range(1, 6)]

    assert taken_when_parsed(pool, raws) == [None] * 4


@pytest.fixture
def pool() -> Iterator[parse_pool.ParsePool]:
    """A pool of its own, up and running."""
    own = parse_pool.ParsePool(1)
    warm(own)
    yield own
    own.close()


def taken_when_parsed(
    pool: parse_pool.ParsePool, raws: list[tuple[int, bytes]]
) -> list[parse_pool.Parsed | None]:
    """A batch's mails after the first, taken once the pool has done with them."""
    ahead = pool.ahead(raws[1:], 100)
    assert ahead.take(raws[0][0]) is None  # the first is parsed inline; the rest handed over
    futures.wait([future for future, _ in ahead.chunks.values()])
    return [ahead.take(item_id) for item_id, _ in raws[1:]]


def warm(pool: parse_pool.ParsePool) -> None:
    """The pool started and its first worker up, as in a daemon that has run a while."""
    pool.ahead([], 100)
    while not pool.ready():
        time.sleep(0.05)


def inline_parses_counter(parsed: list[bytes]) -> Callable[..., InboundMail]:
    def counted(raw: bytes, *, max_depth: int) -> InboundMail:
        parsed.append(raw)
        return parse_mail(raw, max_depth=max_depth)

    return counted


def test_a_batch_too_small_to_pay_for_a_pool_starts_none(
    database_url: str, tmp_path: Path, inline_parses: list[bytes]
) -> None:
    with desk_on(database_url, tmp_path, worker={"parse_processes": 3}) as app:
        small = parse_pool.START_AT - 1
        ids = accept_all(app, [mail(subject=f"Small {n}") for n in range(small)])

        assert len(process_batch(app.engine, app.desk, item_ids=ids, limit=len(ids))) == len(ids)

        assert not parse_pool.parse_pool(3).running
        assert len(inline_parses) == len(ids)


def test_the_daemon_s_stop_closes_the_parse_pools_and_a_later_batch_starts_one_afresh() -> None:
    pool = parse_pool.parse_pool(1)
    warm(pool)
    executor = pool._executor
    assert executor is not None
    workers = list(executor._processes.values())
    manager: Any = executor._executor_manager_thread  # a Thread

    parse_pool.close_pools()

    assert not pool.running
    # The executor's own thread reaps its workers; a second reaper here could lose that race
    # and take a worker reaped a moment before for one still running.
    manager.join(30)  # seconds: a wait for a state, not a timing
    for worker in workers:
        worker.join(30)
        assert not worker.is_alive(), "an idle parser ended with the stop"
    warm(pool)
    assert pool.ready()
