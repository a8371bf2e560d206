"""`maildesk run` inside the test's own event loop: SMTP on a port the kernel picks, SQLite, no
IMAP, so it runs on any laptop without root or Dovecot. A mail in, a ticket and an ack out, and
SIGTERM stops the daemon the way it stops in production.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import shutil
import signal
import smtplib
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import select

from maildesk.app import open_app
from maildesk.config import Settings
from maildesk.daemon.loop import Daemon
from maildesk.db import unit_of_work
from maildesk.models import Ticket
from tests.conftest import make_settings
from tests.mails import mail

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
CUSTOMER = "carol@acme.test"
DEADLINE = 20.0  # seconds; only reached when something is broken


async def until(check: Callable[[], bool]) -> None:
    """Wait until `check()` holds, looking every 20 ms; fail after DEADLINE seconds."""
    async with asyncio.timeout(DEADLINE):
        while not check():
            await asyncio.sleep(0.02)


@pytest.fixture
def run_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """What `maildesk run` reads, with SMTP on port 0 and the default Maildir outbound."""
    database = tmp_path / "var" / "maildesk.db"
    database.parent.mkdir(parents=True)
    shutil.copy(sqlite_template, database)
    return make_settings(tmp_path, f"sqlite:///{database}", smtp={"host": HOST, "port": 0})


@pytest.fixture
async def daemon(run_settings: Settings) -> AsyncIterator[tuple[Daemon, asyncio.Task[None]]]:
    """The daemon as `maildesk run` composes it, running until the test sends SIGTERM."""
    running = Daemon(open_app(run_settings))
    task = asyncio.create_task(running.run_until_stopped(), name="maildesk run")

    def started() -> bool:
        if task.done():
            task.result()  # a daemon that failed to start fails the test with its error
        return running.scheduler.running  # the last thing start() does

    await until(started)
    yield running, task
    if not task.done():  # the test failed before its SIGTERM
        running.stopping.set()
        await asyncio.wait_for(task, DEADLINE)


def send(port: int, raw: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(HOST, port, timeout=10) as client:
        return client.sendmail(CUSTOMER, ["support@example.com"], raw)


def tickets(daemon: Daemon) -> list[Ticket]:
    with unit_of_work(daemon.app.engine) as session:
        return list(session.exec(select(Ticket)))


def sent_to(settings: Settings, address: str) -> list[EmailMessage]:
    """The mails in the outbound Maildir addressed to `address`."""
    new = Path(settings.path(settings.outbound.maildir)) / "new"
    files = sorted(new.iterdir()) if new.exists() else []
    sent = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files
    ]
    return [
        message
        for message in sent
        if isinstance(message, EmailMessage)
        and address in [to.addr_spec for to in message["To"].addresses]
    ]


def sigterm() -> None:
    """SIGTERM to this process, once the daemon's handler has replaced the default (which
    would end the test run)."""
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    os.kill(os.getpid(), signal.SIGTERM)


async def test_a_mail_over_smtp_becomes_a_ticket_and_an_ack_and_sigterm_stops_the_daemon_cleanly(
    daemon: tuple[Daemon, asyncio.Task[None]],
    run_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    running, task = daemon
    assert running.smtp is not None
    port = running.smtp.port
    raw = mail(sender=f"Carol <{CUSTOMER}>", subject="Printer on fire")

    assert await asyncio.to_thread(send, port, raw) == {}
    await until(lambda: bool(tickets(running)) and bool(sent_to(run_settings, CUSTOMER)))

    [ticket] = tickets(running)
    [ack] = sent_to(run_settings, CUSTOMER)
    assert ticket.subject == "Printer on fire"
    assert f"[{ticket.ref}]" in ack["Subject"]

    idle = await asyncio.to_thread(smtplib.SMTP, HOST, port, timeout=10)
    try:
        sigterm()
        await asyncio.wait_for(task, DEADLINE)
        told, _ = await asyncio.to_thread(idle.getreply)
    finally:
        idle.close()

    assert task.result() is None
    assert told == 421, "an open SMTP session is told the desk is shutting down"
    assert all(worker.done() for worker in running.tasks)
    assert asyncio.all_tasks() == {asyncio.current_task()}, "the daemon left a task running"
    assert "maildesk stopping" in caplog.messages
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
