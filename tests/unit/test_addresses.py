"""Signed reply addresses: what the desk signed verifies, and nothing it did not sign does."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from maildesk.addresses import (
    MAX_ID_BYTES,
    SCORES,
    SIG_CHARS,
    SignedAddress,
    VerifiedSigned,
    agent_role,
    message_ids,
    parse_signed,
    rating_address,
    rating_role,
    signed_address,
    verified_signed,
    verify,
)

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
LOCALS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True)
DOMAINS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,9}(\.[a-z0-9-]{1,10}){1,2}", fullmatch=True)
DESK_ADDRESSES = st.builds("{}@{}".format, LOCALS, DOMAINS)
# Refs as the desk makes them (ticket_prefix is [A-Z][A-Z0-9]{0,9}), in either case.
REFS = st.builds(
    "{}-{}".format,
    st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,9}", fullmatch=True),
    st.integers(0, 10**12),
)
ROLES = st.just("customer") | st.emails().map(agent_role)
SECRETS = st.text(min_size=1, max_size=40)


def signed(desk: str, ref: str, secret: str, role: str) -> SignedAddress:
    parsed = parse_signed(signed_address(desk_address=desk, ref=ref, secret=secret, role=role))
    assert parsed is not None
    return parsed


def verifies(address: str, secrets_: tuple[str, ...], role: str) -> bool:
    parsed = parse_signed(address)
    return parsed is not None and verify(parsed, secrets_=secrets_, role=role)


def spelled(parsed: SignedAddress) -> str:
    return f"{parsed.local}+{parsed.ref}.{parsed.sig}@{parsed.domain}"


@given(desk=DESK_ADDRESSES, ref=REFS, secret=SECRETS, role=ROLES, upper=st.booleans())
def test_a_signed_address_reads_back_and_verifies_in_any_letter_case(
    desk: str, ref: str, secret: str, role: str, upper: bool
) -> None:
    address = signed_address(desk_address=desk, ref=ref, secret=secret, role=role)
    parsed = parse_signed(address.upper() if upper else address.lower())

    assert parsed is not None
    local, _, domain = desk.partition("@")
    assert (parsed.local, parsed.ref, parsed.domain) == (local.lower(), ref.upper(), domain)
    assert len(parsed.sig) == SIG_CHARS
    assert verify(parsed, secrets_=(secret,), role=role)


@given(
    desk=DESK_ADDRESSES,
    refs=st.lists(REFS, min_size=2, max_size=2, unique_by=str.upper),
    secret=SECRETS,
    role=ROLES,
)
def test_the_signature_of_one_ticket_does_not_verify_for_another(
    desk: str, refs: list[str], secret: str, role: str
) -> None:
    ref, other = refs
    moved = signed(desk, ref, secret, role)._replace(ref=other)

    assert not verifies(spelled(moved), (secret,), role)


@given(
    desk=DESK_ADDRESSES,
    ref=REFS,
    secret=SECRETS,
    roles=st.lists(ROLES, min_size=2, max_size=2, unique_by=str.lower),
)
def test_the_signature_for_one_role_does_not_verify_for_another(
    desk: str, ref: str, secret: str, roles: list[str]
) -> None:
    role, other = roles
    parsed = signed(desk, ref, secret, role)

    assert not verify(parsed, secrets_=(secret,), role=other)


@given(
    desk=DESK_ADDRESSES,
    ref=REFS,
    secret=SECRETS,
    role=ROLES,
    position=st.integers(0, SIG_CHARS - 1),
    replacement=st.sampled_from(BASE32) | st.characters(exclude_characters="@+"),
)
def test_changing_any_character_of_the_signature_fails(
    desk: str, ref: str, secret: str, role: str, position: int, replacement: str
) -> None:
    parsed = signed(desk, ref, secret, role)
    sig = parsed.sig
    assume(replacement.lower() != sig[position])  # letter case is no change: sigs are lower-cased
    forged = parsed._replace(sig=sig[:position] + replacement + sig[position + 1 :])

    assert not verifies(spelled(forged), (secret,), role)


@given(desk=DESK_ADDRESSES, ref=REFS, secret=SECRETS, role=ROLES, cut=st.integers(1, SIG_CHARS))
def test_a_shortened_or_lengthened_signature_fails(
    desk: str, ref: str, secret: str, role: str, cut: int
) -> None:
    parsed = signed(desk, ref, secret, role)
    shortened = parsed._replace(sig=parsed.sig[:-cut])
    lengthened = parsed._replace(sig=parsed.sig + "a" * cut)

    assert not verifies(spelled(shortened), (secret,), role)
    assert not verifies(spelled(lengthened), (secret,), role)


@given(
    desk=DESK_ADDRESSES,
    ref=REFS,
    secrets_=st.lists(SECRETS, min_size=2, max_size=2, unique=True),
    role=ROLES,
)
def test_an_old_secret_still_verifies_and_a_wrong_one_does_not(
    desk: str, ref: str, secrets_: list[str], role: str
) -> None:
    old, new = secrets_
    parsed = signed(desk, ref, old, role)

    assert verify(parsed, secrets_=(new, old), role=role)
    assert not verify(parsed, secrets_=(new,), role=role)


def test_verified_signed_lists_each_holding_signature_in_order_and_whom_it_is_for() -> None:
    def address(ref: str, role: str = "customer", domain: str = "example.com") -> str:
        return signed_address(desk_address=f"support@{domain}", ref=ref, secret="s", role=role)

    alice, bob = agent_role("alice@example.com"), agent_role("bob@example.com")
    addresses = [
        "support@example.com",  # not signed
        address("TKT-2", alice),
        address("TKT-3", bob),  # signed for another agent: no evidence for Alice
        address("TKT-4", domain="elsewhere.example"),  # not the desk's domain
        address("TKT-5").replace(".", "x", 1),  # forged signature
        address("TKT-1"),
    ]

    found = verified_signed(
        addresses, domains=frozenset({"example.com"}), secrets_=("s",), sender="Alice@example.com"
    )

    assert found == [
        VerifiedSigned(addresses[1], "TKT-2", "alice@example.com"),
        VerifiedSigned(addresses[5], "TKT-1", None),
    ]
    assert verified_signed(
        addresses, domains=frozenset({"example.com"}), secrets_=("s",), sender=None
    ) == [VerifiedSigned(addresses[5], "TKT-1", None)]


# --- rating addresses: `<local>+<REF>.<score>.<sig>@<domain>` --------------------------------


@given(desk=DESK_ADDRESSES, ref=REFS, secret=SECRETS, score=st.sampled_from(SCORES))
def test_a_rating_address_reads_back_with_its_score_and_verifies_for_it_alone(
    desk: str, ref: str, secret: str, score: int
) -> None:
    address = rating_address(desk_address=desk, ref=ref, secret=secret, score=score)
    parsed = parse_signed(address)

    assert parsed is not None
    assert (parsed.ref, parsed.score, len(parsed.sig)) == (ref.upper(), score, SIG_CHARS)
    spelled = f"{parsed.local}+{parsed.ref}.{score}.{parsed.sig}@{parsed.domain}"
    assert address.lower() == spelled.lower()
    assert verify(parsed, secrets_=(secret,), role=rating_role(score))
    for role in ("customer", *(rating_role(other) for other in SCORES if other != score)):
        assert not verify(parsed, secrets_=(secret,), role=role)


@given(
    desk=DESK_ADDRESSES,
    ref=REFS,
    secret=SECRETS,
    scores=st.lists(st.sampled_from(SCORES), min_size=2, max_size=2, unique=True),
)
def test_a_rating_address_with_its_score_changed_is_not_verified(
    desk: str, ref: str, secret: str, scores: list[int]
) -> None:
    score, other = scores
    address = rating_address(desk_address=desk, ref=ref, secret=secret, score=score)
    altered = address.replace(f".{score}.", f".{other}.", 1)

    found = verified_signed(
        [address, altered],
        domains=frozenset({desk.partition("@")[2]}),
        secrets_=(secret,),
        sender=None,
    )

    assert found == [VerifiedSigned(address, ref.upper(), None, score)]


@given(desk=DESK_ADDRESSES, ref=REFS, secret=SECRETS, role=ROLES)
def test_a_customer_or_agent_address_is_no_rating_address(
    desk: str, ref: str, secret: str, role: str
) -> None:
    parsed = signed(desk, ref, secret, role)

    assert parsed.score is None


def test_the_customers_signature_with_a_score_put_in_does_not_rate() -> None:
    customer = signed_address(desk_address="support@example.com", ref="TKT-7", secret="s")
    forged = customer.replace("TKT-7.", "TKT-7.5.")

    found = verified_signed(
        [forged], domains=frozenset({"example.com"}), secrets_=("s",), sender=None
    )

    assert parse_signed(forged) is not None and found == []


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_rating_address_is_for_a_score_of_the_five_point_scale(score: int) -> None:
    with pytest.raises(ValueError, match="a score is 1 to 5"):
        rating_address(desk_address="support@example.com", ref="TKT-7", secret="s", score=score)


def test_a_message_id_is_kept_up_to_the_one_limit_in_bytes_and_no_further() -> None:
    longest = "x" * (MAX_ID_BYTES - len("@acme.test")) + "@acme.test"
    wide = "票" * ((MAX_ID_BYTES - len("@a.test")) // 3) + "@a.test"  # fits in bytes
    wider = "票" + wide  # still far fewer characters than the limit, but too many bytes

    assert len(longest.encode()) == MAX_ID_BYTES and MAX_ID_BYTES + len("In-Reply-To: <>") == 998
    assert message_ids(f"<{longest}> <x{longest}>") == (longest,)
    assert message_ids(f"<{wide}>\r\n <{wider}>") == (wide,)
    assert len(wider) < MAX_ID_BYTES


def test_only_bracketed_ids_without_spaces_or_control_characters_are_message_ids() -> None:
    value = "junk <a b@x> <c\x01@x> <ok@x>, <<also@x>> <> <again@x"

    assert message_ids(value) == ("ok@x", "also@x")
    assert message_ids(None) == () and message_ids("") == ()
