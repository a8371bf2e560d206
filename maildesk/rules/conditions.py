"""Rule conditions by name: each checks its argument once (`compile`) and tests facts (`test`).

A new condition is one small test function and one row of `CONDITIONS`; its argument shape
comes from `shapes` where one fits. `compile` raises ValueError saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from maildesk.models import Priority, TicketStatus
from maildesk.rules import language, shapes
from maildesk.rules.facts import Facts
from maildesk.rules.shapes import AddressTest, DomainTest, Reference, TextTest

C = TypeVar("C")


@dataclass(frozen=True)
class Condition(Generic[C]):
    name: str
    compile: Callable[[object], C]
    test: Callable[[Facts, C], bool]
    refers: Reference | None = None
    reads: str | None = None  # a fact that costs something to get: "body" or "tags"


# ---- argument shapes of their own -------------------------------------------------------


def _names(value: object) -> frozenset[str]:
    return frozenset(shapes.strings(value, "a name"))


def _one_of(allowed: Iterable[str]) -> Callable[[object], frozenset[str]]:
    allowed = tuple(str(a) for a in allowed)

    def check(value: object) -> frozenset[str]:
        found = frozenset(v.lower() for v in shapes.strings(value, "a value"))
        for item in sorted(found - set(allowed)):
            raise ValueError(f"{item!r} is not one of {', '.join(allowed)}")
        return found

    return check


def _tags(value: object) -> frozenset[str]:
    return frozenset(shapes.tags(value))


@dataclass(frozen=True)
class HeaderTest:
    name: str  # lower-case, as InboundMail keeps header names
    text: TextTest | None  # None: the header is present


def _one_header(value: object) -> HeaderTest:
    spec = shapes.table(
        value, required=("name",), optional=("equals", "contains", "regex", "case_sensitive")
    )
    name = spec["name"]
    if (
        not isinstance(name, str)
        or not name
        or not all("!" <= ch <= "~" and ch != ":" for ch in name)
    ):
        raise ValueError(f"name must be a header name like X-Priority, got {name!r}")
    kinds = [key for key in ("equals", "contains", "regex") if key in spec]
    if len(kinds) > 1:
        raise ValueError(f"give one of equals, contains or regex, not {' and '.join(kinds)}")
    case = shapes.flag(spec.get("case_sensitive", False), "case_sensitive")
    text = None
    if kinds == ["regex"]:
        text = shapes.regexes({"regex": spec["regex"], "case_sensitive": case})
    elif kinds == ["contains"]:
        text = shapes.contains({"text": spec["contains"], "case_sensitive": case})
    elif kinds == ["equals"]:
        text = shapes.equals(spec["equals"], case_sensitive=case)
    return HeaderTest(name.lower(), text)


def _headers(value: object) -> tuple[HeaderTest, ...]:
    items = value if isinstance(value, list) and value else [value]
    return tuple(_one_header(item) for item in items)


def _attachment(value: object) -> bool | TextTest:
    """`true`/`false`, or MIME types with globs (`"image/*"`), any of."""
    if isinstance(value, bool):
        return value
    kinds = [k.lower() for k in shapes.strings(value, "true, false or a MIME type")]
    for kind in kinds:
        if kind.count("/") != 1:
            raise ValueError(f"{kind!r} is not a MIME type like application/pdf or image/*")
    return TextTest(tuple(shapes.glob_patterns(kinds)))


@dataclass(frozen=True)
class CalendarTest:
    calendar: str
    inside: bool = True


def _calendar(value: object) -> CalendarTest:
    if isinstance(value, Mapping):
        spec = shapes.table(value, required=("calendar",), optional=("inside",))
        inside = shapes.flag(spec.get("inside", True), "inside")
        return CalendarTest(shapes.strings(spec["calendar"], "a calendar name")[0], inside)
    if not isinstance(value, str) or not value.strip():
        raise ValueError('expected a calendar name or { calendar = "…", inside = false }')
    return CalendarTest(value.strip())


# ---- the tests -------------------------------------------------------------------------


def _from(facts: Facts, wanted: AddressTest) -> bool:
    return wanted.any(facts.senders())


def _from_domain(facts: Facts, wanted: DomainTest) -> bool:
    return wanted.any(facts.senders())


def _to(facts: Facts, wanted: AddressTest | DomainTest) -> bool:
    return wanted.any(facts.to_addresses())


def _cc(facts: Facts, wanted: AddressTest | DomainTest) -> bool:
    return wanted.any(facts.cc_addresses())


def _subject(facts: Facts, wanted: TextTest) -> bool:
    return wanted.search(facts.mail.subject)


def _body(facts: Facts, wanted: TextTest) -> bool:
    return wanted.search(facts.body_text())


def _header(facts: Facts, wanted: tuple[HeaderTest, ...]) -> bool:
    for test in wanted:
        values = facts.mail.header_all(test.name)
        if values and (test.text is None or any(test.text.search(v) for v in values)):
            return True
    return False


def _has_attachment(facts: Facts, wanted: bool | TextTest) -> bool:
    if isinstance(wanted, bool):
        return bool(facts.mail.attachments) == wanted
    kinds = [a.content_type.partition(";")[0].strip().lower() for a in facts.mail.attachments]
    return any(wanted.search(kind) for kind in kinds)


def _category(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.category in wanted


def _queue(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.queue in wanted


def _mailbox(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.mailbox in wanted


def _service(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.service in wanted


def _priority(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.priority in wanted


def _status(facts: Facts, wanted: frozenset[str]) -> bool:
    return facts.status in wanted


def _has_tags(facts: Facts, wanted: frozenset[str]) -> bool:
    return wanted <= facts.tags


def _language(facts: Facts, wanted: language.LanguageTest) -> bool:
    return wanted.holds(language.sample(facts.mail.subject, facts.body_text()))


def _business_hours(facts: Facts, wanted: CalendarTest) -> bool:
    return facts.is_open(wanted.calendar, facts.now) == wanted.inside


def _refers(kind: str) -> Reference:
    return Reference(kind, lambda names: names)


CONDITIONS: Mapping[str, Condition[Any]] = MappingProxyType(
    {
        c.name: c
        for c in (
            Condition("from", shapes.addresses, _from),
            Condition("from_domain", shapes.domains, _from_domain),
            Condition("to", shapes.addresses, _to),
            Condition("to_domain", shapes.domains, _to),
            Condition("cc", shapes.addresses, _cc),
            Condition("cc_domain", shapes.domains, _cc),
            Condition("subject_contains", shapes.contains, _subject),
            Condition("subject_regex", shapes.regexes, _subject),
            Condition("body_contains", shapes.contains, _body, reads="body"),
            Condition("body_regex", shapes.regexes, _body, reads="body"),
            Condition("header", _headers, _header),
            Condition("has_attachment", _attachment, _has_attachment),
            Condition("category", _names, _category, _refers("category")),
            Condition("queue", _names, _queue, _refers("queue")),
            Condition("mailbox", _names, _mailbox, _refers("mailbox")),
            Condition("service", _names, _service, _refers("service")),
            Condition("priority", _one_of(Priority), _priority),
            Condition("status", _one_of(TicketStatus), _status),
            Condition("tags", _tags, _has_tags, reads="tags"),
            Condition(
                "language",
                lambda v: language.LanguageTest(language.codes(v)),
                _language,
                reads="body",
            ),
            Condition(
                "business_hours",
                _calendar,
                _business_hours,
                Reference("calendar", lambda test: (test.calendar,)),
            ),
        )
    }
)
