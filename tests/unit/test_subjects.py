"""Outbound subjects: prefixes normalised, the ticket tag exactly once, other tags removed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.outbound.subjects import strip_subject, tagged_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer on fire", "[TKT-42] Printer on fire"),
        ("Re: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("RE: Re: AW: [TKT-42] Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("Ответ: [TKT-42] Принтер горит", "Re: [TKT-42] Принтер горит"),
        ("Re[2]: Re^3: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("Fwd: Printer on fire", "[TKT-42] Printer on fire"),
        ("[TKT-42] [TKT-42] Printer [TKT-7] on fire", "[TKT-42] Printer on fire"),
    ],
)
def test_the_tag_is_in_the_subject_exactly_once(subject: str, expected: str) -> None:
    assert tagged_subject(subject, ref="TKT-42") == expected


def test_a_tag_of_another_desk_prefix_is_kept() -> None:
    assert tagged_subject("[JIRA-5] Build broken", ref="TKT-1") == "[TKT-1] [JIRA-5] Build broken"


def test_without_a_ticket_any_ticket_looking_tag_goes() -> None:
    assert tagged_subject("Re: [TKT-9] [ABC-3] Hello", ref=None) == "Re: Hello"


def test_strip_subject_says_whether_the_subject_was_a_reply() -> None:
    assert strip_subject("Sv: Fw: Hello") == ("Hello", True)
    assert strip_subject("Fwd: Hello") == ("Hello", False)
    assert strip_subject("Rendezvous: Hello") == ("Rendezvous: Hello", False)


# --- properties ----------------------------------------------------------------------------

REPLY_PREFIXES = ["Re:", "RE:", "re:", "AW:", "Aw:", "Ответ:", "отв:", "Re[2]:", "Re^3:", "SV:"]
FORWARD_PREFIXES = ["Fwd:", "FWD:", "FW:", "Fw:", "WG:"]
TAGS = st.sampled_from(["[TKT-42]", "[tkt-42]", "[TKT-7]", "[Tkt-420]"])
CORES = st.builds(
    "{} {}".format,
    st.sampled_from(["Printer on fire", "Invoice 10:00", "Принтер горит", "Rendezvous: at 9"]),
    st.text(st.characters(exclude_characters="["), max_size=20),
)


@given(
    chain=st.lists(st.sampled_from(REPLY_PREFIXES + FORWARD_PREFIXES), max_size=6),
    core=CORES,
    tags=st.lists(st.tuples(st.integers(0, 7), TAGS), max_size=4),
    space=st.sampled_from([" ", "", "  "]),
)
def test_after_any_chain_of_prefixes_the_tag_is_there_once_and_re_only_for_a_reply(
    chain: list[str], core: str, tags: list[tuple[int, str]], space: str
) -> None:
    words = [*chain, core]
    for position, tag in tags:  # tags of this desk anywhere: between prefixes, after the text
        words.insert(min(position, len(words)), tag)
    subject = space.join(words)
    reply = any(prefix in REPLY_PREFIXES for prefix in chain)

    expected = " ".join(f"{'Re: ' if reply else ''}[TKT-42] {core}".split())
    assert tagged_subject(subject, ref="TKT-42") == expected
