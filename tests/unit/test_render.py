"""Mail templates: message content stays data, the sandbox holds, overrides win and are checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from jinja2 import UndefinedError
from jinja2.sandbox import SecurityError

from maildesk.outbound.render import (
    MACRO_SAMPLE_CONTEXT,
    SAMPLE_CONTEXTS,
    TEMPLATE_NAMES,
    Renderer,
    check_templates,
)


def context(name: str, **changes: Any) -> dict[str, Any]:
    return {**SAMPLE_CONTEXTS[name], **changes}


def write(folder: Path, files: dict[str, str]) -> Path:
    for filename, source in files.items():
        (folder / filename).parent.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text(source)
    return folder


def test_template_syntax_in_a_subject_is_sent_back_literally() -> None:
    rendered = Renderer().render("ack", context("ack", subject="{{ 7*7 }} {% if x %}{# c #}"))

    assert rendered.subject == "Re: {{ 7*7 }} {% if x %}{# c #}"
    assert "{{ 7*7 }} {% if x %}{# c #}" in rendered.text
    assert "{{ 7*7 }} {% if x %}{# c #}" in rendered.html
    assert "49" not in rendered.text


def test_customer_text_is_escaped_in_html_and_verbatim_in_text() -> None:
    text = '<script>alert("x")</script>\nTom & Jerry'
    rendered = Renderer().render("notify_new", context("notify_new", text=text))

    assert text in rendered.text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>\nTom &amp; Jerry" in rendered.html


def test_a_template_reaching_for_python_internals_is_stopped(tmp_path: Path) -> None:
    override = write(tmp_path, {"ack.txt": "{{ ''.__class__.__mro__ }}"})

    with pytest.raises(SecurityError):
        Renderer(override).render("ack", context("ack"))


def test_a_missing_context_key_is_an_error_not_an_empty_string() -> None:
    incomplete = context("ack")
    del incomplete["requester_name"]

    with pytest.raises(UndefinedError, match="requester_name"):
        Renderer().render("ack", incomplete)


def test_the_override_directory_wins_file_by_file(tmp_path: Path) -> None:
    override = write(tmp_path, {"ack.subject.txt": "Got it: {{ subject }}"})

    rendered = Renderer(override).render("ack", context("ack"))

    assert rendered.subject == "Got it: Printer on fire"
    assert rendered.text == Renderer().render("ack", context("ack")).text


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_builtin_template_renders_all_parts_without_external_resources(name: str) -> None:
    rendered = Renderer().render(name, SAMPLE_CONTEXTS[name])

    assert rendered.subject and "\n" not in rendered.subject
    assert "TKT-42" in rendered.text and "TKT-42" in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", rendered.html)
    assert "<img" not in rendered.html and "<link" not in rendered.html


@pytest.mark.parametrize("name", ["notify_new", "notify_reply", "notify_assigned", "sla_warning"])
def test_agent_notices_say_they_can_be_answered_with_commands(name: str) -> None:
    rendered = Renderer().render(name, SAMPLE_CONTEXTS[name])

    assert "#assign me" in rendered.text and "#assign me" in rendered.html


def test_agent_reply_shows_the_agent_the_reply_and_quotes_the_given_history() -> None:
    history = [
        {"author_name": "Carol", "date": "23 Nov 09:00", "text": "It burns.\nStill."},
        {"author_name": "Alice", "date": "23 Nov 08:00", "text": "Earlier answer."},
    ]
    rendered = Renderer().render(
        "agent_reply", context("agent_reply", text="Sent a technician.", history=history)
    )

    assert rendered.text.index("Sent a technician.") < rendered.text.index("Alice")
    assert "On 23 Nov 09:00, Carol wrote:\n> It burns.\n> Still." in rendered.text
    assert "> Earlier answer." in rendered.text


@pytest.mark.parametrize("name", ["rating_request", "agent_reply"])
def test_a_resolving_mail_offers_five_mailto_links_each_to_its_own_rating_address(
    name: str,
) -> None:
    addresses = SAMPLE_CONTEXTS[name]["rating_addresses"]
    rendered = Renderer().render(name, context(name))

    html_links = re.findall(r'href="(mailto:[^"]+)"', rendered.html)
    text_links = re.findall(r"^ +[1-5]: (mailto:\S+)$", rendered.text, flags=re.MULTILINE)
    for links in (html_links, [link.replace("&", "&amp;") for link in text_links]):
        assert len(links) == 5
        for score, link in enumerate(links, start=1):
            parts = urlsplit(link.replace("&amp;", "&"))
            query = parse_qs(parts.query)
            assert unquote(parts.path) == addresses[score - 1]
            assert query["body"] == [f"{score} - "]  # a comment goes after the dash
            assert query["subject"] == ["Re: [TKT-42] Printer on fire"]
    assert "http" not in rendered.text + rendered.html
    assert "5 - Quick and friendly, thank you!" in rendered.text


def test_an_agent_reply_that_does_not_resolve_offers_no_rating() -> None:
    rendered = Renderer().render(
        "agent_reply", context("agent_reply", status="closed", rating_addresses=[])
    )

    assert "mailto:" not in rendered.text + rendered.html


@pytest.mark.parametrize(("score", "sorry"), [(1, True), (2, True), (3, False), (5, False)])
def test_the_thanks_for_a_rating_says_sorry_only_for_a_poor_one(score: int, sorry: bool) -> None:
    rendered = Renderer().render("rating_thanks", context("rating_thanks", score=score))

    assert f"{score} of 5" in rendered.text and f"{score} of 5" in rendered.html
    assert ("We are sorry" in rendered.text) is sorry
    assert "> Slow, and the printer\n> still smells of smoke." in rendered.text


def test_a_rating_alert_quotes_the_comment_or_says_there_was_none() -> None:
    said = Renderer().render("rating_alert", context("rating_alert"))
    silent = Renderer().render("rating_alert", context("rating_alert", comment=""))

    assert said.subject == "Rated 2 of 5: Printer on fire"
    assert "rated ticket TKT-42 2 of 5, and wrote:\n\n> Slow, and the printer" in said.text
    assert "still smells of smoke." in said.html
    assert "2 of 5, without a comment." in silent.text


def test_check_templates_finds_nothing_wrong_with_the_builtins() -> None:
    assert check_templates(Renderer()) == []


def test_check_templates_reports_a_broken_override_with_its_line(tmp_path: Path) -> None:
    override = write(tmp_path, {"ack.txt": "Hello\n{% if %}\n"})

    problems = check_templates(Renderer(override))

    assert any(p.startswith(f"template {override / 'ack.txt'}:2:") for p in problems), problems


def test_check_templates_reports_an_override_using_an_unknown_variable(tmp_path: Path) -> None:
    files = {"ack.subject.txt": "{{ ticket_title }}", "ack.txt": "x", "ack.html": "x"}
    override = write(tmp_path, files)

    problems = check_templates(Renderer(override))

    assert problems == ["template ack.subject.txt: UndefinedError: 'ticket_title' is undefined"]


def test_check_templates_reports_a_partial_override(tmp_path: Path) -> None:
    override = write(tmp_path, {"ack.txt": "Thanks, {{ requester_name }}."})

    problems = check_templates(Renderer(override))

    assert len(problems) == 1 and problems[0].startswith("template ack: the override directory")


def test_check_templates_reports_missing_templates_and_directory(tmp_path: Path) -> None:
    builtin = write(tmp_path / "builtin", {"ack.subject.txt": "x", "ack.txt": "x"})

    problems = check_templates(Renderer(tmp_path / "nowhere", builtin_dir=builtin))

    assert problems[0] == f"templates override directory {tmp_path / 'nowhere'} does not exist"
    assert "template ack.html: missing (neither in the override directory nor built in)" in problems
    assert not any(p.startswith("template ack.txt") for p in problems)


def test_check_templates_renders_every_macro_as_the_macro_command_would(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        {
            "macros/refund.txt": "Dear {{ requester_name }}, {% if %}",
            "macros/vip.txt": "Hello {{ customer_tier }}",
            "macros/fine.txt": "Your ticket {{ ref }} in {{ queue }} is {{ status }}.",
        },
    )

    problems = check_templates(Renderer(override))

    assert problems == [
        f"template {override / 'macros' / 'refund.txt'}:1: Expected an expression, got 'end of "
        "statement block'",
        "template macros/vip.txt: UndefinedError: 'customer_tier' is undefined",
    ]


def test_a_macro_that_reaches_for_python_internals_is_reported(tmp_path: Path) -> None:
    override = write(tmp_path, {"macros/evil.txt": "{{ ''.__class__.__mro__ }}"})

    [problem] = check_templates(Renderer(override))

    assert problem.startswith("template macros/evil.txt: SecurityError:")


def test_every_builtin_macro_renders_with_the_macro_context() -> None:
    renderer = Renderer()

    assert renderer.macro_names() == ["need-details", "thanks"]
    for name in renderer.macro_names():
        text = renderer.render_file(f"macros/{name}.txt", MACRO_SAMPLE_CONTEXT)
        assert text.startswith("Hello Carol Customer,")


def test_a_watcher_is_told_who_has_the_ticket_and_the_assignee_that_it_is_theirs() -> None:
    renderer = Renderer()
    watcher = context("notify_assigned", to_you=False, assignee_name="Bob")

    assert renderer.render("notify_assigned", watcher).subject == "Assigned to Bob: Printer on fire"
    assert "assigned ticket TKT-42 to Bob." in renderer.render("notify_assigned", watcher).text
    mine = renderer.render("notify_assigned", context("notify_assigned"))
    assert mine.subject == "Assigned to you: Printer on fire"


@pytest.mark.parametrize("status", ["open", "pending"])
def test_an_agent_reply_on_an_open_ticket_says_nothing_of_its_status(status: str) -> None:
    rendered = Renderer().render("agent_reply", context("agent_reply", status=status))

    assert "resolved" not in rendered.text and "closed" not in rendered.text
    assert "resolved" not in rendered.html
