"""Signed recipient addresses (thread-match locates by them); proof that an agent's mail is theirs.

Proof: the agent's signed address for the ticket (or their own `+<PREFIX>-0` one for starting
tickets) or, from an MTA the operator trusts, Authentication-Results with dkim=pass.
"""

from __future__ import annotations

import re

from maildesk.addresses import VerifiedSigned, verified_signed
from maildesk.mail import InboundMail
from maildesk.pipeline.work import StageEnv, Work

_DKIM_PASS = re.compile(r"\bdkim\s*=\s*pass\b[^;]*?\bheader\.(?:d|i)\s*=\s*@?([^\s;]+)", re.I)


def dkim_proof(mail: InboundMail, *, agent_email: str, authserv_id: str | None) -> bool:
    """Only the topmost Authentication-Results counts, and only from the trusted authserv-id."""
    if not authserv_id:
        return False
    headers = mail.header_all("authentication-results")
    if not headers:
        return False
    first = headers[0]
    if first.split(";", 1)[0].strip().split()[0:1] != [authserv_id]:
        return False
    domain = agent_email.rpartition("@")[2].lower()
    return any(d.lower().rstrip(".") == domain for d in _DKIM_PASS.findall(first))


def signed_recipients(work: Work, env: StageEnv, *, sender: str | None) -> list[VerifiedSigned]:
    """The verified signed addresses among the mail's recipients and the SMTP envelope's."""
    mail, desk = work.parsed(), env.desk
    addresses = [a.email for a in mail.recipients()] + [a.lower() for a in work.envelope_to]
    return verified_signed(
        addresses, domains=desk.settings.desk_domains(), secrets_=desk.secrets, sender=sender
    )


def signed_agent_address(work: Work, env: StageEnv, *, agent_email: str, ref: str) -> bool:
    """A recipient address signed for this agent and this ticket ref."""
    return any(
        signed.ref == ref.upper() and signed.agent is not None
        for signed in signed_recipients(work, env, sender=agent_email)
    )


def proven_agent(work: Work, env: StageEnv, *, agent_email: str, ref: str) -> bool:
    authserv = env.desk.settings.desk.trusted_authserv_id
    return signed_agent_address(work, env, agent_email=agent_email, ref=ref) or dkim_proof(
        work.parsed(), agent_email=agent_email, authserv_id=authserv
    )


def compose_ref(env: StageEnv) -> str:
    """The ref of an agent's own address for starting tickets: `<PREFIX>-0`."""
    return f"{env.desk.settings.desk.ticket_prefix}-0"
