"""Outbound subjects: prefixes normalised, the ticket tag exactly once, other tags removed."""

from __future__ import annotations

import pytest

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
