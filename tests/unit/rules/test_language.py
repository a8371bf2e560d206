"""The language condition: real lingua on short texts, one detector per rule set, loaded late."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maildesk.rules.engine import evaluate
from maildesk.rules.language import Detector, LanguageTest, detection_set
from maildesk.rules.spec import Rule
from tests.mails import mail
from tests.unit.rules.given import facts, problem, rules

ROOT = Path(__file__).resolve().parents[3]
TEXTS = {
    "de": ("Drucker kaputt", "Guten Tag, seit gestern druckt unser Drucker nicht mehr."),
    "fr": ("Imprimante en panne", "Bonjour, depuis hier notre imprimante ne fonctionne plus."),
    "en": ("Printer broken", "Hello, since yesterday our printer does not print any more."),
}


@pytest.fixture(scope="module")
def by_language() -> tuple[Rule, ...]:
    """German and French rules; the detector (de, fr and en) is loaded once for the module."""
    return rules(
        {"name": "german", "when": {"language": "de"}, "then": {"queue": "de"}},
        {"name": "french", "when": {"language": ["fr"]}, "then": {"queue": "fr"}},
    )


@pytest.mark.parametrize(("code", "queue"), [("de", "de"), ("fr", "fr"), ("en", None)])
def test_a_short_mail_goes_by_its_language(
    by_language: tuple[Rule, ...], code: str, queue: str | None
) -> None:
    subject, body = TEXTS[code]

    decision = evaluate(by_language, facts(mail(subject=subject, body=body))).decision

    assert decision.queue == queue


def test_every_language_condition_of_a_rule_set_shares_one_detector(
    by_language: tuple[Rule, ...],
) -> None:
    tests = [arg for rule in by_language for _, arg in rule.when if isinstance(arg, LanguageTest)]

    assert tests[0].detector is tests[1].detector
    assert tests[0].detector is not None
    assert tests[0].detector.codes == {"de", "fr", "en"}


def test_the_detector_knows_the_named_languages_and_one_to_tell_them_from() -> None:
    assert detection_set({"de", "fr"}) == {"de", "fr", "en"}
    assert detection_set({"de"}) == {"de", "en"}
    assert detection_set({"en"}) == {"en", "de"}
    assert detection_set({"en", "fr"}) == {"en", "fr"}


def test_the_detector_is_built_on_first_use_and_remembers_the_last_text() -> None:
    detector = Detector({"de", "fr"})
    assert not detector.loaded

    assert detector.detect(TEXTS["fr"][1]) == "fr"
    assert detector.loaded
    built = detector._lingua
    detector._lingua = None  # a second ask about the same text needs no detector
    assert detector.detect(TEXTS["fr"][1]) == "fr"
    detector._lingua = built


def test_a_language_condition_never_reached_loads_nothing() -> None:
    compiled = rules(
        {
            "name": "german vip",
            "when": {"from": "vip@x.test", "language": "de"},
            "then": {"queue": "de"},
        },
    )

    evaluate(compiled, facts(mail(subject=TEXTS["de"][0])))

    language = compiled[0].when[1][1]
    assert isinstance(language, LanguageTest) and language.detector is not None
    assert not language.detector.loaded


def test_lingua_is_not_even_imported_for_rules_without_a_language_condition() -> None:
    script = textwrap.dedent(
        """
        import sys
        from tests.unit.rules.given import facts, rules
        from maildesk.rules.engine import evaluate
        urgent = {"subject_regex": "down"}
        compiled = rules({"name": "urgent", "when": urgent, "then": {"priority": "high"}})
        assert evaluate(compiled, facts()).decision.priority is None
        print(sorted(name for name in sys.modules if name.startswith("lingua")))
        """
    )

    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize(("argument", "says"), [("xx", "unknown language 'xx'"), ([], "empty")])
def test_a_language_must_be_an_iso_639_1_code_lingua_knows(argument: object, says: str) -> None:
    assert says in problem("language", argument)
