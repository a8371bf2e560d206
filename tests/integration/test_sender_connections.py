"""Several relay connections at once: every due row goes out once, whatever one of them meets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import TransientError
from maildesk.outbound.claims import Sent, claim_rows, mark_sent_many
from maildesk.outbound.outbox import DEFAULT_BACKOFF
from maildesk.sender import recorder
from maildesk.sender.delivery import CLAIM_CHUNK, LEASE, deliver_due
from maildesk.sender.recorder import Tried, write_results
from maildesk.sender.transports import Outcome, SendResult, SmtpTransport
from maildesk.timing.clock import FixedClock
from tests.integration.test_sender import HOST, Relay, composed, queue_mails, rows, smtp

pytestmark = pytest.mark.integration


def customers(count: int) -> list[str]:
    return [f"customer{i}@acme.test" for i in range(count)]


def delivered(relay: Relay) -> Counter[str]:
    """How many mails each recipient got from the relay."""
    return Counter(to for mail in relay.received for to in mail.rcpt_tos)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    """The recording relay of test_sender, on a port of its own."""
    recorder = Relay()
    server = await asyncio.get_running_loop().create_server(recorder.connect, HOST, 0)
    recorder.port = server.sockets[0].getsockname()[1]
    async with server:
        yield recorder


@pytest.fixture
def nobody_listens() -> Iterator[SmtpTransport]:
    """A relay address that refuses connections: bound, never listening."""
    with socket.socket() as unused:
        unused.bind((HOST, 0))
        yield SmtpTransport(HOST, unused.getsockname()[1], timeout=2)


async def test_four_connections_deliver_every_row_exactly_once(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, *customers(4 * CLAIM_CHUNK))

    report = await deliver_due(app.engine, [smtp(relay) for _ in range(4)], clock, batch=100)

    assert (report.sent, report.retrying, report.failed) == (4 * CLAIM_CHUNK, 0, 0)
    assert relay.connections == 4  # each took a chunk of its own
    assert delivered(relay) == Counter(customers(4 * CLAIM_CHUNK))
    assert [(r.state, r.attempts, r.sent_at) for r in rows(app)] == [("sent", 1, clock.now())] * (
        4 * CLAIM_CHUNK
    )
    assert sorted(m.content for m in relay.received) == sorted(raw for _, raw in composed(app))


async def test_each_connection_sends_at_most_its_batch_and_says_more_is_due(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, *customers(10))

    report = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=3)

    assert (report.sent, report.more_due) == (6, True)
    assert [r.state for r in rows(app)].count("queued") == 4
    rest = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=3)
    assert rest.sent == 4
    none_left = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=3)
    assert (none_left.sent, none_left.more_due) == (0, False)
    assert delivered(relay) == Counter(customers(10))


async def test_one_unreachable_connection_loses_and_duplicates_nothing(
    app: App, clock: FixedClock, relay: Relay, nobody_listens: SmtpTransport
) -> None:
    queue_mails(app, clock, *customers(3 * CLAIM_CHUNK))
    transports = [nobody_listens, smtp(relay), smtp(relay)]  # the broken one claims first

    report = await deliver_due(app.engine, transports, clock, batch=100)

    assert (report.sent, report.retrying, report.failed) == (3 * CLAIM_CHUNK - 1, 1, 0)
    [waiting] = [r for r in rows(app) if r.state == "queued"]
    assert (waiting.last_error or "").startswith("cannot connect to")
    assert waiting.next_attempt_at == clock.now() + DEFAULT_BACKOFF.delay(1)
    assert waiting.recipients[0] not in delivered(relay)  # the rest of its chunk went out

    clock.advance(DEFAULT_BACKOFF.delay(1))
    later = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock)

    assert later.sent == 1
    assert delivered(relay) == Counter(customers(3 * CLAIM_CHUNK))
    assert {(r.state, r.attempts) for r in rows(app) if r.id != waiting.id} == {("sent", 1)}


async def test_mails_the_relay_refuses_for_now_wait_while_the_rest_go_out_once(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, *customers(2 * CLAIM_CHUNK))
    relay.answer_next("451 4.3.0 Try again later", times=3)

    report = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=100)

    assert (report.sent, report.retrying) == (2 * CLAIM_CHUNK - 3, 3)
    retrying = {r.recipients[0] for r in rows(app) if r.state == "queued"}
    assert len(retrying) == 3 and not retrying & set(delivered(relay))
    assert sum(delivered(relay).values()) == 2 * CLAIM_CHUNK - 3


async def test_two_senders_at_once_claim_disjoint_rows(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    """Two daemons (or a daemon and `maildesk tick`) on one database: SKIP LOCKED on
    PostgreSQL, one writer at a time on SQLite; no row goes out twice."""
    queue_mails(app, clock, *customers(6 * CLAIM_CHUNK))

    first, second = await asyncio.gather(
        deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=100),
        deliver_due(app.engine, [smtp(relay), smtp(relay)], clock, batch=100),
    )

    assert first.sent + second.sent == 6 * CLAIM_CHUNK
    assert delivered(relay) == Counter(customers(6 * CLAIM_CHUNK))


def test_claimed_rows_are_not_due_again_until_their_lease_ends(app: App, clock: FixedClock) -> None:
    queue_mails(app, clock, *customers(3))

    with unit_of_work(app.engine) as session:
        first = claim_rows(session, now=clock.now(), limit=2, lease=LEASE)
    with unit_of_work(app.engine) as session:
        second = claim_rows(session, now=clock.now(), limit=2, lease=LEASE)
        third = claim_rows(session, now=clock.now(), limit=2, lease=LEASE)

    assert (len(first), len(second), third) == (2, 1, [])
    assert not {c.id for c in first} & {c.id for c in second}
    assert {r.next_attempt_at for r in rows(app)} == {clock.now() + LEASE}
    with unit_of_work(app.engine) as session:
        after = claim_rows(session, now=clock.now() + LEASE, limit=5, lease=LEASE)
    assert len(after) == 3  # a sender that died: its rows are due once the lease ends


def test_sent_rows_keep_the_bytes_they_were_sent_with_and_a_refusal_note(
    app: App, clock: FixedClock
) -> None:
    first, second = queue_mails(app, clock, "a@acme.test", "b@acme.test")

    with unit_of_work(app.engine) as session:
        present = mark_sent_many(
            session,
            sent=[Sent(first, b"composed"), Sent(second, b"other", "c@acme.test: 550 no")],
            now=clock.now(),
        )
    with unit_of_work(app.engine) as session:  # sent again after a crash: the bytes stay
        mark_sent_many(session, sent=[Sent(first, None)], now=clock.now())

    assert present == {first, second}
    assert [(r.state, r.attempts, r.raw, r.last_error) for r in rows(app)] == [
        ("sent", 2, b"composed", None),
        ("sent", 1, b"other", "c@acme.test: 550 no"),
    ]


def test_a_write_of_results_reports_rows_deleted_meanwhile_as_gone(
    app: App, clock: FixedClock
) -> None:
    [kept] = queue_mails(app, clock, "a@acme.test")
    sent = SendResult(Outcome.SENT, "250 ok")
    later = SendResult(Outcome.TEMPORARY, "451 later")

    states = write_results(
        app.engine,
        [Tried(kept, "notify", 1, sent, b"raw"), Tried(999, "notify", 1, sent, b"raw"),
         Tried(998, "notify", 1, later, b"raw")],
        clock.now(),
        DEFAULT_BACKOFF,
    )  # fmt: skip

    assert states == {kept: "sent", 999: "gone", 998: "gone"}


async def test_a_sender_stopped_mid_run_leaves_no_row_waiting_out_its_lease(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, *customers(4 * CLAIM_CHUNK))
    relay.stall_seconds = 0.05
    sending = asyncio.create_task(deliver_due(app.engine, [smtp(relay), smtp(relay)], clock))
    while sum(r.state == "sent" for r in rows(app)) < 2:
        await asyncio.sleep(0.01)

    sending.cancel()  # as the daemon stops
    with pytest.raises(asyncio.CancelledError):
        await sending

    after = rows(app)
    sent = {r.recipients[0] for r in after if r.state == "sent"}
    assert len(sent) >= 2 and sent <= set(delivered(relay))
    assert {(r.attempts, r.next_attempt_at) for r in after if r.state == "queued"} == {
        (0, clock.now())
    }  # due again at once; the lease is only for a sender that died


async def test_a_sender_stopped_while_it_writes_its_results_writes_them_first(
    app: App, clock: FixedClock, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_mails(app, clock, *customers(3))
    writing = threading.Event()

    def slow(*args: Any) -> dict[int, str]:
        writing.set()
        time.sleep(0.3)  # seconds: the daemon's stop comes while this write is under way
        return write_results(*args)

    monkeypatch.setattr(recorder, "write_results", slow)
    sending = asyncio.create_task(deliver_due(app.engine, smtp(relay), clock))
    while not (writing.is_set() and sum(delivered(relay).values()) == 3):
        await asyncio.sleep(0.01)

    sending.cancel()  # as the daemon stops: the connection is done, its results not written
    with pytest.raises(asyncio.CancelledError):
        await sending

    assert {r.state for r in rows(app)} == {"sent"}, "sent mails are recorded, not sent again"
    assert asyncio.all_tasks() == {asyncio.current_task()}, "no write is left running"


async def test_a_database_lost_while_recording_stops_the_run_and_the_rows_come_back(
    app: App, clock: FixedClock, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_mails(app, clock, *customers(CLAIM_CHUNK))

    def lost(*args: object) -> dict[int, str]:
        raise TransientError("database unavailable: disk I/O error")

    monkeypatch.setattr(recorder, "write_results", lost)
    with pytest.raises(TransientError, match="disk I/O error"):
        await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock)

    monkeypatch.undo()
    assert {r.state for r in rows(app)} == {"queued"}  # nothing recorded: nothing lost
    clock.advance(LEASE)
    again = await deliver_due(app.engine, [smtp(relay), smtp(relay)], clock)
    assert again.sent == CLAIM_CHUNK  # sent again: twice rather than never
