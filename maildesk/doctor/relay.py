"""The SMTP relay, when `[outbound] transport = "smtp"`: it answers, takes EHLO (and
STARTTLS), and accepts the login when credentials are configured."""

from __future__ import annotations

import asyncio
from contextlib import suppress

import aiosmtplib

from maildesk.config import OutboundSettings, Settings
from maildesk.doctor.findings import Finding, Probe, error, ok

NAME = "relay"


def check(settings: Settings, probe: Probe) -> list[Finding]:
    outbound = settings.outbound
    if outbound.transport != "smtp":
        return [ok(NAME, f"transport {outbound.transport}: no relay to check")]
    where = f"{outbound.host}:{outbound.port}"
    seconds = min(outbound.timeout_seconds, probe.timeout_seconds)
    try:
        said = asyncio.run(_visit(outbound, seconds))
    except aiosmtplib.SMTPAuthenticationError as exc:
        found = f"{where} refused the login of {outbound.username}: {exc.code} {exc.message}"
        return [error(NAME, found, "check outbound.username and outbound.password")]
    except (aiosmtplib.SMTPException, OSError) as exc:
        found = f"cannot talk to {where}: {exc}"
        return [error(NAME, found, "check outbound.host, port, tls and starttls")]
    return [ok(NAME, f"{where} answered EHLO{said}")]


async def _visit(outbound: OutboundSettings, seconds: float) -> str:
    """Connect (greeting, EHLO, STARTTLS if set) and log in if configured; what was done."""
    client = aiosmtplib.SMTP(
        hostname=outbound.host,
        port=outbound.port,
        use_tls=outbound.tls,
        start_tls=outbound.starttls and not outbound.tls,
        timeout=seconds,
    )
    async with asyncio.timeout(seconds * 2):  # connect and login are each bounded by aiosmtplib
        await client.connect()
        try:
            if outbound.username:
                await client.login(outbound.username, outbound.resolved_password() or "")
                return f" and accepted the login of {outbound.username}"
            return ""
        finally:
            with suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
