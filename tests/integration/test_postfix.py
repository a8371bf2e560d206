"""A real Postfix delivers to maildesk as the README's recipe (contrib/postfix/) says: by LMTP
to the daemon's listener, and by the pipes running `maildesk ingest` (with and without
`--queue`) as a non-root user, which defer while the database is unavailable and deliver once
it is back.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maildesk.app import open_app
from maildesk.config import load_settings
from maildesk.daemon.loop import Daemon
from maildesk.timed.jobs import process_inbox
from tests.conftest import free_port
from tests.integration.postfix import (
    POSTFIX_MISSING,
    PostfixServer,
    postfix_binary,
    transport_entry,
)
from tests.mails import mail
from tests.services import missing_service

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PIPE_USER = "nobody"  # any account but root and Postfix's own; owns the pipe's desk folder
SUPPORT = "support@desk.example.com"
BILLING = "billing@desk.example.com"
CUSTOMER = "carol@acme.test"
RECIPE_DESK = "/srv/maildesk/"
RECIPE_COMMAND = "/srv/maildesk/.venv/bin/maildesk"
RECIPE_SOCKET = "/var/spool/postfix/maildesk/lmtp.sock"
DEADLINE = 60.0

CONFIG = """\
[desk]
name = "Example Support"
address = "support@desk.example.com"
secret = "postfix-test-k3y-0f-the-desk"

[database]
url = "sqlite:///var/maildesk.db"

[smtp]
enabled = false

[lmtp]
enabled = true
socket = "{socket}"

[[queues]]
name = "general"
addresses = ["support@desk.example.com"]

[[queues]]
name = "billing"
addresses = ["billing@desk.example.com"]
"""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder Postfix's and the pipe's users can reach (pytest's tmp_path is root-only)."""
    if postfix_binary() is None:
        missing_service(POSTFIX_MISSING)
    if os.geteuid() != 0:
        missing_service("the private Postfix for tests must be started as root")
    root = Path(tempfile.mkdtemp(prefix="maildesk-postfix-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def desk_dir(scratch: Path, sqlite_template: Path) -> Path:
    """The desk's folder: config, migrated SQLite database, attachments and sent mail."""
    desk = scratch / "desk"
    (desk / "var").mkdir(parents=True)
    shutil.copy(sqlite_template, desk / "var" / "maildesk.db")
    socket = scratch / "postfix" / "queue" / RECIPE_SOCKET.removeprefix("/var/spool/postfix/")
    (desk / "maildesk.toml").write_text(CONFIG.format(socket=socket))
    return desk


def the_pipe_as(user: str, desk: Path) -> Callable[[str], str]:
    """The recipe's master.cf with this checkout's maildesk, this desk and `user`."""
    command = f"/usr/bin/env PYTHONPATH={ROOT} {sys.executable} -m maildesk"

    def rewrite(recipe: str) -> str:
        recipe = recipe.replace(RECIPE_COMMAND, command).replace(RECIPE_DESK, f"{desk}/")
        return recipe.replace("user=maildesk", f"user={user}")

    return rewrite


def start_postfix(scratch: Path, desk: Path, transport: str) -> PostfixServer:
    server = PostfixServer(
        scratch / "postfix",
        port=free_port(),
        transport=transport_entry(transport),
        pipe=the_pipe_as(PIPE_USER, desk),
    )
    server.start()
    return server


def tickets(desk: Path) -> list[tuple[str, str]]:
    """(queue, subject) of each ticket, read without touching the pipe user's files."""
    uri = f"file:{desk / 'var' / 'maildesk.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        query = "SELECT queue, subject FROM ticket ORDER BY id"
        return [(queue, subject) for queue, subject in connection.execute(query)]


def give_to(user: str, folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        shutil.chown(path, user=user)


# --- LMTP to the daemon -----------------------------------------------------------------------


@pytest.fixture
def lmtp_postfix(scratch: Path, desk_dir: Path) -> Iterator[PostfixServer]:
    server = start_postfix(scratch, desk_dir, "lmtp:unix:")
    # The recipe's socket folder: the daemon's, in group postfix with setgid, so the socket
    # (default socket_mode 0o660) belongs to group postfix and Postfix's lmtp may write it.
    socket_dir = server.queue / "maildesk"
    socket_dir.mkdir()
    shutil.chown(socket_dir, group="postfix")
    socket_dir.chmod(0o2750)
    yield server
    server.stop()


async def test_postfix_hands_a_mail_for_two_desk_addresses_to_the_daemon_by_lmtp(
    lmtp_postfix: PostfixServer, desk_dir: Path
) -> None:
    daemon = Daemon(open_app(load_settings(desk_dir / "maildesk.toml")))
    await daemon.start()
    try:
        raw = mail(sender=CUSTOMER, to=BILLING, cc=SUPPORT, subject="Invoice twice")
        refused = await asyncio.to_thread(lmtp_postfix.send, raw, [BILLING, SUPPORT], CUSTOMER)
        sent = await asyncio.to_thread(lmtp_postfix.wait_for_log, r"lmtp.*status=sent", 2)
        async with asyncio.timeout(DEADLINE):
            while daemon.worker.processed == 0:
                await asyncio.sleep(0.05)
    finally:
        await daemon.stop()

    assert refused == {}
    assert all("maildesk/lmtp.sock" in line for line in sent)
    assert tickets(desk_dir) == [("billing", "Invoice twice")]


async def test_postfix_refuses_an_address_the_desk_does_not_have_while_the_sender_waits(
    lmtp_postfix: PostfixServer,
) -> None:
    raw = mail(sender=CUSTOMER, to="sales@desk.example.com")

    def send() -> dict[str, tuple[int, bytes]]:
        return lmtp_postfix.send(raw, ["sales@desk.example.com", SUPPORT], CUSTOMER)

    refused = await asyncio.to_thread(send)

    code, reply = refused["sales@desk.example.com"]
    assert code == 550 and b"User unknown in relay recipient table" in reply


# --- the pipe, as a non-root user, without a daemon -------------------------------------------


@pytest.fixture
def pipe_postfix(scratch: Path, desk_dir: Path) -> Iterator[PostfixServer]:
    pwd.getpwnam(PIPE_USER)
    give_to(PIPE_USER, desk_dir)  # the pipe's user writes the database folder
    server = start_postfix(scratch, desk_dir, "maildesk:")
    yield server
    server.stop()


def database_unavailable(desk: Path, unavailable: bool) -> None:
    """The database folder and file read-only for the pipe's user (a full or broken disk)."""
    (desk / "var").chmod(0o555 if unavailable else 0o755)
    (desk / "var" / "maildesk.db").chmod(0o444 if unavailable else 0o644)


def test_the_pipe_defers_while_the_database_is_unavailable_and_delivers_after(
    pipe_postfix: PostfixServer, desk_dir: Path
) -> None:
    pipe_postfix.send(mail(sender=CUSTOMER, to=SUPPORT, subject="First"), [SUPPORT], CUSTOMER)
    pipe_postfix.wait_for_log(r"relay=maildesk.*status=sent")

    database_unavailable(desk_dir, True)
    pipe_postfix.send(mail(sender=CUSTOMER, to=BILLING, subject="Second"), [BILLING], CUSTOMER)
    [deferred] = pipe_postfix.wait_for_log(r"relay=maildesk.*status=deferred")
    queue_id = deferred.split(": ")[1]
    assert queue_id in pipe_postfix.queue_listing()

    database_unavailable(desk_dir, False)
    pipe_postfix.flush()  # what Postfix would do at its next retry
    pipe_postfix.wait_for_log(r"relay=maildesk.*status=sent", count=2)

    assert "temporary failure. Command output: maildesk: " in deferred  # its one line
    assert "Mail queue is empty" in pipe_postfix.queue_listing()
    assert tickets(desk_dir) == [("general", "First"), ("billing", "Second")]
    assert pwd.getpwuid((desk_dir / "var" / "maildesk.db").stat().st_uid).pw_name == PIPE_USER


# --- the queueing pipe, as a non-root user, with the daemon processing ------------------------


@pytest.fixture
def queue_postfix(scratch: Path, desk_dir: Path) -> Iterator[PostfixServer]:
    pwd.getpwnam(PIPE_USER)
    give_to(PIPE_USER, desk_dir)
    server = start_postfix(scratch, desk_dir, "maildeskq:")
    yield server
    server.stop()


def inbox_states(desk: Path) -> list[str]:
    uri = f"file:{desk / 'var' / 'maildesk.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        return [state for (state,) in connection.execute("SELECT state FROM inboxitem ORDER BY id")]


def test_the_queueing_pipe_stores_defers_while_unavailable_and_the_daemon_processes(
    queue_postfix: PostfixServer, desk_dir: Path
) -> None:
    queue_postfix.send(mail(sender=CUSTOMER, to=SUPPORT, subject="First"), [SUPPORT], CUSTOMER)
    queue_postfix.wait_for_log(r"relay=maildeskq.*status=sent")

    database_unavailable(desk_dir, True)
    queue_postfix.send(mail(sender=CUSTOMER, to=BILLING, subject="Second"), [BILLING], CUSTOMER)
    [deferred] = queue_postfix.wait_for_log(r"relay=maildeskq.*status=deferred")
    assert "temporary failure. Command output: maildesk: " in deferred
    database_unavailable(desk_dir, False)
    queue_postfix.flush()
    queue_postfix.wait_for_log(r"relay=maildeskq.*status=sent", count=2)
    # Read only now: root opening the WAL database would leave its -shm file root's.
    assert inbox_states(desk_dir) == ["received", "received"] and tickets(desk_dir) == []

    app = open_app(load_settings(desk_dir / "maildesk.toml"))
    try:
        assert process_inbox(app) == 2  # what the daemon's inbox sweep does every minute
    finally:
        app.engine.dispose()
    assert tickets(desk_dir) == [("general", "First"), ("billing", "Second")]
