"""Signed reply addresses (`support+TKT-42.<sig>@desk`), rating addresses
(`support+TKT-42.<score>.<sig>@desk`), and Message-IDs: ours, and what one is."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from typing import NamedTuple

SIG_CHARS = 16  # base32 characters: 80 bits of HMAC-SHA256
_SIG_BYTES = SIG_CHARS * 5 // 8  # the digest's bytes they encode (whole, so no padding)
#: The longest Message-ID kept, in UTF-8 bytes: `In-Reply-To: <id>` still fits RFC 5322's
#: 998-character header line, and an indexed column holds it on every database.
MAX_ID_BYTES = 998 - len("In-Reply-To: <>")
_MSGID = re.compile(rf"<([^<>\s\x00-\x1f\x7f]{{1,{MAX_ID_BYTES}}})>")
#: The scores of the five-point scale; a rating address carries one between ref and signature.
SCORES = range(1, 6)
_SIGNED = re.compile(
    r"^(?P<local>[^+@]+)\+(?P<ref>[A-Za-z][A-Za-z0-9]*-\d+)(?:\.(?P<score>[1-5]))?"
    r"\.(?P<sig>[a-z2-7]+)@(?P<domain>.+)$",
    re.I,
)


class SignedAddress(NamedTuple):  # not a dataclass: `ingest --queue` must not import dataclasses
    local: str
    ref: str  # upper-case, e.g. TKT-42
    sig: str  # lower-case base32
    domain: str
    score: int | None = None  # a rating address: the score it rates with (signed as its role)


def signature(secret: str, ref: str, role: str) -> str:
    """HMAC-SHA256 over ticket and role: "customer", "agent:<email>" or "rating:<score>"."""
    message = f"{ref.upper()}|{role.lower()}".encode()
    digest = hmac.digest(secret.encode(), message, hashlib.sha256)  # one call, no HMAC object
    return base64.b32encode(digest[:_SIG_BYTES]).decode().lower()  # the bytes it shows


def signed_address(*, desk_address: str, ref: str, secret: str, role: str = "customer") -> str:
    local, _, domain = desk_address.partition("@")
    return f"{local}+{ref.upper()}.{signature(secret, ref, role)}@{domain}"


def agent_role(agent_email: str) -> str:
    return f"agent:{agent_email.lower()}"


def rating_role(score: int) -> str:
    return f"rating:{score}"


def rating_address(*, desk_address: str, ref: str, secret: str, score: int) -> str:
    """`support+TKT-42.5.<sig>@desk`: a mail to it rates the ticket `score`, whatever its body.

    The score is part of what is signed, so an address with a changed score does not verify.
    """
    if score not in SCORES:
        raise ValueError(f"a score is 1 to 5, not {score}")
    local, _, domain = desk_address.partition("@")
    sig = signature(secret, ref, rating_role(score))
    return f"{local}+{ref.upper()}.{score}.{sig}@{domain}"


def parse_signed(address: str) -> SignedAddress | None:
    match = _SIGNED.match(address.strip())
    if not match:
        return None
    return SignedAddress(
        local=match["local"].lower(),
        ref=match["ref"].upper(),
        sig=match["sig"].lower(),
        domain=match["domain"].lower(),
        score=int(match["score"]) if match["score"] else None,
    )


def verify(signed: SignedAddress, *, secrets_: tuple[str, ...], role: str) -> bool:
    """Constant-time check against the current secret and every old one still honoured."""
    if len(signed.sig) != SIG_CHARS:
        return False
    ok = False
    for secret in secrets_:
        ok |= hmac.compare_digest(signature(secret, signed.ref, role), signed.sig)
    return ok


class VerifiedSigned(NamedTuple):
    """A signed address whose signature holds: for which ticket, and for whom it was signed."""

    address: str  # as the mail names it
    ref: str  # upper-case, e.g. TKT-42
    agent: str | None  # the sender, when signed for them as an agent; None: for the customer
    score: int | None = None  # a rating address: the score it carries (for the customer)


def verified_signed(
    addresses: Iterable[str],
    *,
    domains: frozenset[str],
    secrets_: tuple[str, ...],
    sender: str | None,
) -> list[VerifiedSigned]:
    """Every address signed under one of the desk's `domains` for `sender` as an agent or for the
    customer (a rating address: for its score), in the order given; anything else (unsigned,
    forged, foreign, a score changed) is no evidence."""
    found = []
    for address in addresses:
        signed = parse_signed(address)
        if signed is None or signed.domain not in domains:
            continue
        if signed.score is not None:
            if verify(signed, secrets_=secrets_, role=rating_role(signed.score)):
                found.append(VerifiedSigned(address, signed.ref, None, signed.score))
        elif sender and verify(signed, secrets_=secrets_, role=agent_role(sender)):
            found.append(VerifiedSigned(address, signed.ref, sender.lower()))
        elif verify(signed, secrets_=secrets_, role="customer"):
            found.append(VerifiedSigned(address, signed.ref, None))
    return found


def message_ids(value: str | None) -> tuple[str, ...]:
    """The `<id>`s in a header value, without brackets, in order: inbound and outbound alike.

    An id with whitespace or control characters, or over MAX_ID_BYTES, is no id. Bytes, not
    characters: 400 CJK characters are 1.2 KB, and a mail must never fail to be stored.
    """
    found = _MSGID.findall(value or "")
    return tuple(i for i in found if len(i.encode("utf-8", "surrogatepass")) <= MAX_ID_BYTES)


def new_message_id(domain: str) -> str:
    """A Message-ID (without angle brackets) with a time part and 80 random bits."""
    return f"{_stamp(int(time.time() * 1000))}.{secrets.token_hex(10)}@{domain}"


@functools.lru_cache(maxsize=1)
def _stamp(millisecond: int) -> str:
    """The time part, worked out once for the mails queued in the same millisecond."""
    return base64.b32encode(millisecond.to_bytes(6, "big")).decode().lower().rstrip("=")


def local_part_matches(address: str, desk_addresses: frozenset[str]) -> bool:
    """True for a desk address itself or any `local+anything@domain` subaddress of one."""
    address = address.lower()
    if address in desk_addresses:
        return True
    local, _, domain = address.partition("@")
    base = local.split("+", 1)[0]
    return f"{base}@{domain}" in desk_addresses
