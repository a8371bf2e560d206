"""Proof that a mail from an agent's address really is the agent's.

Either the signed agent address maildesk gave that agent (for a ticket, or the agent's own
`<local>+<PREFIX>-0.<sig>@` address for starting tickets), or, where the operator trusts its
own MTA, that MTA's Authentication-Results with dkim=pass for the agent's domain.
"""

from __future__ import annotations

import re

from maildesk.addresses import agent_role, parse_signed, verify
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


def signed_agent_address(work: Work, env: StageEnv, *, agent_email: str, ref: str) -> bool:
    """A recipient address signed for this agent and this ticket ref."""
    mail = work.parsed()
    for address in [a.email for a in mail.recipients()] + [a.lower() for a in work.envelope_to]:
        signed = parse_signed(address)
        if signed is None or signed.ref != ref.upper():
            continue
        if signed.domain in env.desk.settings.desk_domains() and verify(
            signed, secrets_=env.desk.secrets, role=agent_role(agent_email)
        ):
            return True
    return False


def proven_agent(work: Work, env: StageEnv, *, agent_email: str, ref: str) -> bool:
    authserv = env.desk.settings.desk.trusted_authserv_id
    return signed_agent_address(work, env, agent_email=agent_email, ref=ref) or dkim_proof(
        work.parsed(), agent_email=agent_email, authserv_id=authserv
    )


def compose_ref(env: StageEnv) -> str:
    """The ref of an agent's own address for starting tickets: `<PREFIX>-0`."""
    return f"{env.desk.settings.desk.ticket_prefix}-0"
