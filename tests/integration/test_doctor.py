"""The doctor against real servers on loopback: a private Dovecot for the mailboxes, an
aiosmtpd relay on port 0 that wants a login; each broken in one way at a time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from maildesk.config import Settings
from maildesk.doctor import mailboxes, relay
from maildesk.doctor.findings import Finding, Level, Probe
from tests.conftest import make_settings
from tests.integration.dovecot import HOST, DovecotServer

pytestmark = pytest.mark.integration

PROBE = Probe(lookup_mx=lambda _domain, _timeout: ["mx.example.com"], timeout_seconds=5.0)
RELAY_USER, RELAY_PASSWORD = "desk", "relay-secret"


def only(findings: list[Finding]) -> Finding:
    [finding] = findings
    return finding


def with_mailbox(tmp_path: Path, server: DovecotServer, **changes: Any) -> Settings:
    mailbox = {
        "name": "support",
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "password": server.password,
        "timeout_seconds": 5.0,
    } | changes
    return make_settings(tmp_path, "sqlite:///unused.db", imap=[mailbox])


def test_a_mailbox_that_logs_in_and_has_its_folders_is_ok(
    tmp_path: Path, dovecot_server: DovecotServer
) -> None:
    dovecot_server.create_folder("Processed")
    settings = with_mailbox(tmp_path, dovecot_server, processed_folder="Processed")

    found = only(mailboxes.check(settings, PROBE))

    assert found.level is Level.OK, found
    assert found.message == (
        f"logged in to {HOST}:{dovecot_server.port} as desk; INBOX and Processed exist"
    )


def test_a_wrong_password_is_a_refused_login(tmp_path: Path, dovecot_server: DovecotServer) -> None:
    settings = with_mailbox(tmp_path, dovecot_server, password="not-the-password")

    found = only(mailboxes.check(settings, PROBE))

    assert (found.check, found.level) == ("imap support", Level.ERROR)
    assert found.message.startswith("login refused: ")
    assert found.fix == "check imap[0].username/password"


def test_a_missing_folder_or_processed_folder_is_named(
    tmp_path: Path, dovecot_server: DovecotServer
) -> None:
    no_folder = with_mailbox(tmp_path, dovecot_server, folder="Support")
    no_processed = with_mailbox(tmp_path, dovecot_server, processed_folder="Done")

    folder = only(mailboxes.check(no_folder, PROBE))
    processed = only(mailboxes.check(no_processed, PROBE))

    assert folder.level is Level.ERROR
    assert folder.message.startswith("folder 'Support' cannot be selected")
    assert processed.level is Level.ERROR
    assert processed.message.startswith("processed_folder 'Done' does not exist")


def test_a_closed_imap_port_cannot_be_connected_to(tmp_path: Path, closed_port: int) -> None:
    mailbox = {"name": "support", "port": closed_port, "username": "u", "password": "p"}
    settings = make_settings(tmp_path, "sqlite:///unused.db", imap=[mailbox])

    found = only(mailboxes.check(settings, PROBE))

    assert found.level is Level.ERROR
    assert found.message.startswith(f"cannot connect to 127.0.0.1:{closed_port}")


class _Relay:
    """aiosmtpd on its own loop in a thread (the doctor runs its own loop), port 0, with AUTH."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _session(self) -> SMTP:
        return SMTP(
            object(), hostname="relay.test", authenticator=self._auth, auth_require_tls=False
        )

    @staticmethod
    def _auth(
        _server: SMTP, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            RELAY_USER.encode(),
            RELAY_PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)  # a refusal gets the 535 answer

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(self.loop.create_server(self._session, HOST, 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def smtp_relay() -> Iterator[_Relay]:
    running = _Relay()
    running.thread.start()
    assert running.ready.wait(10)
    yield running
    running.stop()


def with_relay(tmp_path: Path, port: int, **changes: Any) -> Settings:
    outbound = {"transport": "smtp", "host": HOST, "port": port, "timeout_seconds": 5.0} | changes
    return make_settings(tmp_path, "sqlite:///unused.db", outbound=outbound)


def test_a_relay_that_takes_ehlo_and_the_login_is_ok(tmp_path: Path, smtp_relay: _Relay) -> None:
    settings = with_relay(tmp_path, smtp_relay.port, username=RELAY_USER, password=RELAY_PASSWORD)

    found = only(relay.check(settings, PROBE))

    assert found.level is Level.OK, found
    assert found.message == f"{HOST}:{smtp_relay.port} answered EHLO and accepted the login of desk"


def test_a_relay_that_refuses_the_password_says_so(tmp_path: Path, smtp_relay: _Relay) -> None:
    settings = with_relay(tmp_path, smtp_relay.port, username=RELAY_USER, password="wrong")

    found = only(relay.check(settings, PROBE))

    assert found.level is Level.ERROR
    assert found.message.startswith(f"{HOST}:{smtp_relay.port} refused the login of desk: 535")
    assert found.fix == "check outbound.username and outbound.password"


def test_a_closed_relay_port_cannot_be_talked_to(tmp_path: Path, closed_port: int) -> None:
    found = only(relay.check(with_relay(tmp_path, closed_port), PROBE))

    assert found.level is Level.ERROR
    assert found.message.startswith(f"cannot talk to {HOST}:{closed_port}")


def test_a_maildir_desk_has_no_relay_to_check(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite:///unused.db")

    assert only(relay.check(settings, PROBE)) == Finding(
        "relay", Level.OK, "transport maildir: no relay to check"
    )
