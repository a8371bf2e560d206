"""Proof that mail from an agent's address is the agent's: a signed address or trusted DKIM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from maildesk.addresses import agent_role, signed_address
from maildesk.desk import Desk
from maildesk.files import AttachmentStore
from maildesk.mail import parse_mail
from maildesk.outbound.render import Renderer
from maildesk.pipeline.proof import compose_ref, dkim_proof, proven_agent, signed_agent_address
from maildesk.pipeline.work import StageEnv, Work
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
from tests.mails import mail

ALICE = "alice@example.com"
MTA = "mx.example.com"


def stage_env(tmp_path: Path, **desk: Any) -> StageEnv:
    """Proof reads settings and secrets only: the session is never used."""
    settings = make_settings(tmp_path, "sqlite:///var/maildesk.db", desk=desk)
    return StageEnv(
        session=Session(),
        desk=Desk(
            settings=settings,
            clock=FixedClock(START),
            store=AttachmentStore(tmp_path),
            secrets=("s3cret", "older"),
            renderer=Renderer(None),
        ),
        now=START,
    )


def agent_address(ref: str = "TKT-7", *, agent: str = ALICE, secret: str = "s3cret") -> str:
    return signed_address(
        desk_address="support@example.com", ref=ref, secret=secret, role=agent_role(agent)
    )


def from_alice(*, to: str = "support@example.com", **headers: str) -> Work:
    raw = mail(sender=ALICE, to=to, headers=headers)
    return Work(item_id=1, raw=raw, mail=parse_mail(raw))


# --- the signed agent address ------------------------------------------------------------------


def test_a_reply_to_the_agents_own_signed_address_for_the_ticket_is_proof(tmp_path: Path) -> None:
    work = from_alice(to=agent_address())

    assert signed_agent_address(work, stage_env(tmp_path), agent_email=ALICE, ref="tkt-7")


def test_an_address_signed_with_an_old_secret_still_proves(tmp_path: Path) -> None:
    work = from_alice(to=agent_address(secret="older"))

    assert signed_agent_address(work, stage_env(tmp_path), agent_email=ALICE, ref="TKT-7")


def test_the_signed_address_may_come_only_in_the_envelope(tmp_path: Path) -> None:
    work = from_alice(to="support@example.com")
    work = Work(item_id=1, raw=work.raw, mail=work.mail, envelope_to=(agent_address().upper(),))

    assert signed_agent_address(work, stage_env(tmp_path), agent_email=ALICE, ref="TKT-7")


@pytest.mark.parametrize(
    "to",
    [
        agent_address(agent="bob@example.com"),  # Bob's address proves nothing for Alice
        agent_address("TKT-8"),  # another ticket
        signed_address(desk_address="support@example.com", ref="TKT-7", secret="s3cret"),
        agent_address(secret="guessed"),
        agent_address().replace("@example.com", "@elsewhere.example"),
        "support@example.com",
    ],
)
def test_any_other_address_is_no_proof(tmp_path: Path, to: str) -> None:
    work = from_alice(to=to)

    assert not signed_agent_address(work, stage_env(tmp_path), agent_email=ALICE, ref="TKT-7")
    assert not proven_agent(work, stage_env(tmp_path), agent_email=ALICE, ref="TKT-7")


def test_an_agents_own_address_for_starting_tickets_has_ref_zero(tmp_path: Path) -> None:
    env = stage_env(tmp_path, ticket_prefix="HELP")
    work = from_alice(to=agent_address("HELP-0"))

    assert compose_ref(env) == "HELP-0"
    assert proven_agent(work, env, agent_email=ALICE, ref=compose_ref(env))


# --- Authentication-Results from the desk's own MTA --------------------------------------------


def results(value: str) -> Work:
    return from_alice(**{"Authentication-Results": value})


@pytest.mark.parametrize(
    "value",
    [
        f"{MTA}; dkim=pass header.d=example.com header.s=mail; spf=pass",
        f"{MTA}; spf=fail; dkim=pass (2048-bit key) header.i=@Example.COM",
        f"{MTA} 1; dkim=pass header.d=example.com.",
    ],
)
def test_dkim_pass_for_the_agents_domain_from_the_trusted_mta_is_proof(
    tmp_path: Path, value: str
) -> None:
    env = stage_env(tmp_path, trusted_authserv_id=MTA)

    assert dkim_proof(results(value).parsed(), agent_email=ALICE, authserv_id=MTA)
    assert proven_agent(results(value), env, agent_email=ALICE, ref="TKT-7")


@pytest.mark.parametrize(
    "value",
    [
        f"{MTA}; dkim=fail header.d=example.com",
        f"{MTA}; dkim=pass header.d=example.com.evil.test",
        f"{MTA}; dkim=pass header.d=acme.test",
        "mx.evil.test; dkim=pass header.d=example.com",
    ],
)
def test_failing_foreign_or_untrusted_results_are_no_proof(tmp_path: Path, value: str) -> None:
    assert not dkim_proof(results(value).parsed(), agent_email=ALICE, authserv_id=MTA)


def test_only_the_topmost_results_header_counts(tmp_path: Path) -> None:
    raw = (
        f"Authentication-Results: {MTA}; dkim=none\r\n".encode()
        + f"Authentication-Results: {MTA}; dkim=pass header.d=example.com\r\n".encode()
        + mail(sender=ALICE)
    )

    assert not dkim_proof(parse_mail(raw), agent_email=ALICE, authserv_id=MTA)


def test_without_a_trusted_authserv_id_no_results_header_is_believed(tmp_path: Path) -> None:
    work = results(f"{MTA}; dkim=pass header.d=example.com")

    assert not dkim_proof(work.parsed(), agent_email=ALICE, authserv_id=None)
    assert not proven_agent(work, stage_env(tmp_path), agent_email=ALICE, ref="TKT-7")
