"""Language of a mail's text, with lingua: one detector per rule set, built on first use.

lingua is imported inside the functions, never when this module is: with every language it
takes seconds and hundreds of MB to load, and a desk whose rules name no language must never
pay for it. The detector knows only the languages the rules name, plus English (German when
English is the one named), so that one named language has something to be told apart from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from maildesk.rules.shapes import strings

SAMPLE_CHARS = 1000  # the subject and this much of the body are plenty to tell a language


def codes(value: object) -> frozenset[str]:
    """`"de"` or `["de", "fr"]`: ISO 639-1 codes lingua knows; checking them loads no model."""
    from lingua import IsoCode639_1

    found = set()
    for code in strings(value, "an ISO 639-1 language code"):
        try:
            IsoCode639_1.from_str(code.lower())
        except ValueError:
            raise ValueError(
                f"unknown language {code!r} (ISO 639-1 codes, like de, fr, en)"
            ) from None
        found.add(code.lower())
    return frozenset(found)


def detection_set(named: Iterable[str]) -> frozenset[str]:
    """The named languages plus English — German when English is all they name."""
    named = frozenset(named)
    return named | {"de" if named == {"en"} else "en"}


class Detector:
    """Built on the first `detect`, once; remembers the last text it was asked about."""

    def __init__(self, named: Iterable[str]) -> None:
        self.codes = detection_set(named)
        self._lock = threading.Lock()
        self._lingua: Any = None
        self._last: tuple[str, str | None] | None = None

    @property
    def loaded(self) -> bool:
        return self._lingua is not None

    def _built(self) -> Any:
        with self._lock:
            if self._lingua is None:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

                languages = [
                    Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in self.codes
                ]
                self._lingua = LanguageDetectorBuilder.from_languages(*languages).build()
            return self._lingua

    def detect(self, text: str) -> str | None:
        """The ISO 639-1 code of the text's language, or None when lingua cannot tell."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        found = self._built().detect_language_of(text)
        code = None if found is None else str(found.iso_code_639_1.name).lower()
        self._last = (text, code)
        return code


@dataclass(frozen=True)
class LanguageTest:
    """The text is in one of `codes`; `detector` is shared by every rule of one rule set."""

    codes: frozenset[str]
    detector: Detector | None = None  # set by `spec.compile_rules` once all rules are read

    def holds(self, text: str) -> bool:
        assert self.detector is not None, "compile_rules shares one detector over all rules"
        return self.detector.detect(text) in self.codes


def sample(subject: str, body: str) -> str:
    return f"{subject}\n{body[:SAMPLE_CHARS]}"
