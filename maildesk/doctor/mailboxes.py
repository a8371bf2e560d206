"""Each `[[imap]]` mailbox: the server answers, the login works, the folder and the
processed folder exist. Bounded by the mailbox's timeout and the doctor's, whichever is less."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable
from contextlib import suppress

import aioimaplib

from maildesk.config import ImapSettings, Settings
from maildesk.doctor.findings import Finding, Probe, error, ok

NAME = "imap"


class _Refused(Exception):
    """The server said no; `fix` says what to change."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def check(settings: Settings, probe: Probe) -> list[Finding]:
    if not settings.imap:
        return [ok(NAME, "no [[imap]] mailboxes configured")]
    return [_check_one(index, mailbox, probe) for index, mailbox in enumerate(settings.imap)]


def _check_one(index: int, mailbox: ImapSettings, probe: Probe) -> Finding:
    name, key = f"imap {mailbox.name}", f"imap[{index}]"
    where = f"{mailbox.host}:{mailbox.port}"
    password = mailbox.resolved_password()
    if not password:
        return error(name, "no password", f"set {key}.password or {key}.password_env")
    seconds = min(mailbox.timeout_seconds, probe.timeout_seconds)
    try:
        asyncio.run(_visit(mailbox, password, seconds, key))
    except _Refused as exc:
        return error(name, str(exc), exc.fix)
    except TimeoutError:
        return error(name, f"{where} did not answer within {seconds:g} s", f"check {key}.host/port")
    except (OSError, aioimaplib.Abort, aioimaplib.Error) as exc:
        found = f"cannot connect to {where}: {exc or type(exc).__name__}"
        return error(name, found, f"check {key}.host, {key}.port and {key}.tls")
    folders = " and ".join(f for f in (mailbox.folder, mailbox.processed_folder) if f)
    return ok(name, f"logged in to {where} as {mailbox.username}; {folders} exist")


async def _visit(mailbox: ImapSettings, password: str, seconds: float, key: str) -> None:
    context = ssl.create_default_context() if mailbox.tls else None
    async with asyncio.timeout(seconds):
        client = aioimaplib.IMAP4(
            host=mailbox.host, port=mailbox.port, timeout=seconds, ssl_context=context
        )
        try:
            await client.wait_hello_from_server()
            if mailbox.starttls:
                await _starttls(client, mailbox.host, key)
            await _expect(
                client.login(mailbox.username, password), "login refused", key, "username/password"
            )
            await _expect(
                client.select(aioimaplib.quoted(mailbox.folder)),
                f"folder {mailbox.folder!r} cannot be selected",
                key,
                "folder (or create it)",
            )
            if mailbox.processed_folder:
                status = client.status(aioimaplib.quoted(mailbox.processed_folder), "(MESSAGES)")
                await _expect(
                    status,
                    f"processed_folder {mailbox.processed_folder!r} does not exist",
                    key,
                    "processed_folder (or create it)",
                )
            with suppress(Exception):
                await client.logout()
        finally:
            transport = client.protocol.transport
            if transport is not None:
                transport.close()


async def _expect(step: Awaitable[aioimaplib.Response], refusal: str, key: str, what: str) -> None:
    response = await step
    if response.result != "OK":
        said = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
        raise _Refused(f"{refusal}: {said}", f"check {key}.{what}")


async def _starttls(client: aioimaplib.IMAP4, host: str, key: str) -> None:
    """Upgrade in place, as the poller does (aioimaplib has no STARTTLS of its own)."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise _Refused("the server does not offer STARTTLS", f"check {key}.starttls and {key}.tls")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    await _expect(protocol.execute(command), "STARTTLS refused", key, "starttls")
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context()
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, context, server_hostname=host
    )
    await protocol.capability()
