"""Each rule condition: what matches, what does not, and what its argument may not be."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from maildesk.rules.conditions import CONDITIONS
from tests.mails import mail
from tests.unit.rules.given import NOW, facts, holds, problem

CAROL = facts(
    mail(
        sender="Carol <Carol.Smith@Mail.Acme.test>",
        to="Support <support+billing@example.com>, bob@other.test",
        cc="Dave <dave@partner.test>",
        subject="URGENT: Outage of the mail server",
        body="Our server is down since 9:00.\nError code E-42.",
        headers={"X-Priority": "1 (Highest)", "X-Mailer": "Outlook"},
        attachments=[
            ("log.pdf", "application/pdf", b"%PDF-1.4"),
            ("shot.png", "image/png", b"\x89PNG"),
        ],
    ),
    envelope_to=("helpdesk+vip@example.com",),
)
PLAIN = facts(mail(cc=None))


@pytest.mark.parametrize(
    "wanted",
    [
        "carol.smith@mail.acme.test",
        "CAROL.SMITH@mail.acme.test",
        ["nobody@x.test", "carol.smith@mail.acme.test"],
        "*@mail.acme.test",
        "carol.*@*.acme.test",
        {"regex": r"^carol\.\w+@"},
        ["nobody@x.test", {"regex": "smith@"}],
    ],
)
def test_from_matches_exact_glob_or_regex_ignoring_case(wanted: object) -> None:
    assert holds("from", wanted, CAROL)


@pytest.mark.parametrize(
    "wanted", ["carol@mail.acme.test", "*@acme.test", {"regex": "^smith"}, ["a@b.test"]]
)
def test_from_does_not_match_other_addresses(wanted: object) -> None:
    assert not holds("from", wanted, CAROL)


def test_a_glob_matches_the_whole_address_not_a_part_of_it() -> None:
    assert not holds("from", "*@mail.acme", CAROL)
    assert not holds("from", "smith@*", CAROL)
    assert holds("from", "*smith@*", CAROL)


def test_from_domain_matches_the_domain_and_its_subdomains() -> None:
    assert holds("from_domain", "acme.test", CAROL)
    assert holds("from_domain", "mail.acme.test", CAROL)
    assert holds("from_domain", ["x.test", "ACME.test"], CAROL)
    assert holds("from_domain", "*.acme.test", CAROL)
    assert holds("from_domain", {"regex": r"acme\.test$"}, CAROL)
    assert not holds("from_domain", "cme.test", CAROL)
    assert not holds("from_domain", "other.acme.test", CAROL)


def test_to_matches_a_subaddress_of_the_named_address() -> None:
    assert holds("to", "support@example.com", CAROL)
    assert holds("to", "support+billing@example.com", CAROL)
    assert not holds("to", "support+sales@example.com", CAROL)
    assert not holds("to", "sales@example.com", CAROL)


def test_to_sees_the_envelope_recipients_and_delivered_to() -> None:
    assert holds("to", "helpdesk@example.com", CAROL)  # RCPT TO only, not in the headers
    delivered = facts(mail(to="list@lists.test", headers={"Delivered-To": "desk+x@example.com"}))
    assert holds("to", "desk@example.com", delivered)


def test_a_glob_or_regex_also_matches_the_address_without_its_subaddress() -> None:
    assert holds("to", "support@*.com", CAROL)
    assert holds("to", {"regex": "^support@example\\.com$"}, CAROL)


def test_to_domain_and_cc_domain() -> None:
    assert holds("to_domain", "other.test", CAROL)
    assert holds("cc_domain", "partner.test", CAROL)
    assert not holds("cc_domain", "other.test", CAROL)


def test_cc_matches_only_the_cc_header() -> None:
    assert holds("cc", "dave@partner.test", CAROL)
    assert holds("cc", "*@partner.test", CAROL)
    assert not holds("cc", "bob@other.test", CAROL)
    assert not holds("cc", "*", PLAIN)


@pytest.mark.parametrize(
    ("condition", "argument", "expected"),
    [
        ("subject_contains", "outage", True),
        ("subject_contains", ["nothing", "MAIL SERVER"], True),
        ("subject_contains", "invoice", False),
        ("subject_contains", {"text": "urgent", "case_sensitive": True}, False),
        ("subject_contains", {"text": ["x", "URGENT"], "case_sensitive": True}, True),
        ("subject_contains", "a.b", False),  # a text, not a regex
        ("subject_regex", r"outage|down", True),
        ("subject_regex", r"^urgent:", True),
        ("subject_regex", {"regex": r"^urgent:", "case_sensitive": True}, False),
        ("subject_regex", ["^x", r"server$"], True),
        ("subject_regex", r"OUTAGE", True),
        ("subject_regex", r"\Aurgent", True),
        ("subject_regex", r"(?-i:outage)", False),  # case matters inside, as written
        ("subject_contains", "Outage OF", True),
        ("body_contains", "error code e-42", True),
        ("body_contains", "printer", False),
        ("body_regex", r"E-\d+", True),
        ("body_regex", r"error code e-\d+", True),
        ("body_regex", r"^Error code", True),  # ^ and $ match at each line
        ("body_regex", r"9:00\.$", True),
        ("body_regex", r"\AError", False),  # \A and \Z: the whole text
    ],
)
def test_subject_and_body_text(condition: str, argument: object, expected: bool) -> None:
    assert holds(condition, argument, CAROL) is expected


def test_body_conditions_read_the_body_the_caller_gives() -> None:
    replied = facts(mail(body="thanks\n> the server is down"), body="thanks")

    assert not holds("body_contains", "down", replied)
    assert holds("body_contains", "down", facts(mail(body="thanks\n> the server is down")))


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ({"name": "X-Priority", "equals": "1 (highest)"}, True),
        ({"name": "x-priority", "equals": "1"}, False),
        ({"name": "X-Priority", "regex": r"^1\b"}, True),
        ({"name": "X-Priority", "contains": "highest"}, True),
        ({"name": "X-Priority", "contains": "highest", "case_sensitive": True}, False),
        ({"name": "X-Mailer", "equals": ["Thunderbird", "Outlook"]}, True),
        ({"name": "X-Mailer"}, True),  # present
        ({"name": "List-Id"}, False),
        ([{"name": "List-Id"}, {"name": "X-Mailer", "equals": "outlook"}], True),
    ],
)
def test_header_equals_contains_regex_or_present(argument: object, expected: bool) -> None:
    assert holds("header", argument, CAROL) is expected


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        (True, True),
        (False, False),
        ("application/pdf", True),
        ("image/*", True),
        ("IMAGE/PNG", True),
        ("image/jpeg", False),
        (["text/csv", "application/*"], True),
    ],
)
def test_has_attachment_and_its_type(argument: object, expected: bool) -> None:
    assert holds("has_attachment", argument, CAROL) is expected


def test_a_mail_without_attachments() -> None:
    assert holds("has_attachment", False, PLAIN)
    assert not holds("has_attachment", "*/*", PLAIN)


@pytest.mark.parametrize(
    ("condition", "field", "value", "argument", "expected"),
    [
        ("category", "category", "premium", "premium", True),
        ("category", "category", "standard", ["premium", "gold"], False),
        ("queue", "queue", "billing", ["general", "billing"], True),
        ("queue", "queue", "general", "billing", False),
        ("mailbox", "mailbox", "main", "main", True),
        ("mailbox", "mailbox", None, "main", False),
        ("service", "service", "email", "email", True),
        ("service", "service", None, "email", False),
        ("priority", "priority", "urgent", ["high", "urgent"], True),
        ("priority", "priority", "normal", "HIGH", False),
        ("status", "status", "pending", "pending", True),
        ("status", "status", "open", ["new", "pending"], False),
        ("tags", "tags", frozenset({"vip", "outage"}), ["vip", "Outage"], True),
        ("tags", "tags", frozenset({"vip"}), ["vip", "outage"], False),  # all must be there
        ("tags", "tags", frozenset({"vip"}), "vip", True),
    ],
)
def test_ticket_fields(
    condition: str, field: str, value: object, argument: object, expected: bool
) -> None:
    fields: dict[str, Any] = {field: value}
    assert holds(condition, argument, facts(**fields)) is expected


def test_business_hours_asks_the_injected_calendar_about_now() -> None:
    asked: list[tuple[str, datetime]] = []

    def office_open(calendar: str, when: datetime) -> bool:
        asked.append((calendar, when))
        return calendar == "office"

    open_now = facts(is_open=office_open)

    assert holds("business_hours", "office", open_now)
    assert not holds("business_hours", {"calendar": "office", "inside": False}, open_now)
    assert holds("business_hours", {"calendar": "night", "inside": False}, open_now)
    assert asked[0] == ("office", NOW)


@pytest.mark.parametrize(
    ("condition", "argument", "says"),
    [
        ("from", "acme.test", "not an address (a domain goes in a *_domain condition)"),
        ("from", [], "got an empty list"),
        ("from", 3, "expected an address, a glob or"),
        ("from", {"regexp": "x"}, "unknown key 'regexp' (known: regex)"),
        ("from", {"regex": "(x"}, "bad regex: missing ), unterminated subpattern at position 0"),
        ("from_domain", "carol@acme.test", "not a domain"),
        ("subject_contains", "", "expected a text"),
        ("subject_contains", {"text": "x", "case_sensitive": "yes"}, "true or false"),
        ("subject_regex", "[a-", "bad regex: unterminated character set"),
        ("subject_regex", {"case_sensitive": True}, "regex is required"),
        ("header", "X-Priority", "expected a table with name"),
        ("header", {"name": "X Priority"}, "header name"),
        ("header", {"name": "X-P", "equals": "1", "regex": "1"}, "not equals and regex"),
        ("has_attachment", "pdf", "not a MIME type"),
        ("priority", "critical", "'critical' is not one of low, normal, high, urgent"),
        ("status", ["open", "done"], "'done' is not one of new, open"),
        ("category", [""], "expected a name"),
        ("tags", "two words", "is not a tag"),
        ("business_hours", 1, "expected a calendar name"),
        ("business_hours", {"calendar": "office", "inside": "no"}, "inside must be true"),
    ],
)
def test_a_bad_argument_says_what_is_wrong(condition: str, argument: object, says: str) -> None:
    assert says in problem(condition, argument)


def test_every_condition_design_md_names_is_registered() -> None:
    design = """from from_domain to cc subject_contains subject_regex body_contains body_regex
        header has_attachment category queue service language business_hours priority status
        tags"""

    assert set(design.split()) <= set(CONDITIONS)
