"""HTML mail bodies → plain text a person would read; hidden elements are left out.

A small tokenizer that runs in linear time on any input (the stdlib HTMLParser rescans the
rest of the document for every unterminated tag: quadratic, so minutes for a hostile mail).
"""

from __future__ import annotations

import html
import re
from collections import Counter

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_RAW_TEXT = {"script", "style", "title", "textarea", "xmp", "noscript"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr", "source"}
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all"
    r"|(?:font-size|opacity)\s*:\s*(?:0+\.?0*|\.0+)(?:px|pt|em|rem|%)?\s*(?:!important\s*)?(?:;|$)",
    re.I,
)
_COLLAPSED = re.compile(
    r"(?:max-)?(?:height|width)\s*:\s*0+(?:px|pt|em|rem|%)?\s*(?:!important\s*)?(?:;|$)", re.I
)
_CLIPPED = re.compile(r"overflow\s*:\s*hidden", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# A tag never spans a `<` (not even in a quoted value): every match attempt stops at the
# next `<`, which keeps the scan linear. Comments run to `-->` or to the very end.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[!?][^<>]*>?"
    r"|<(/?)([A-Za-z][A-Za-z0-9:_-]*)((?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*)>",
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s"'=/<>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def _attributes(source: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(source):
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        values.setdefault(name.lower(), html.unescape(value))
    return values


def _hides(tag: str, attrs: dict[str, str]) -> bool:
    style = _CSS_COMMENT.sub("", attrs.get("style", ""))
    return (
        tag in _SKIP
        or "hidden" in attrs
        or attrs.get("aria-hidden", "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(style))
        or bool(_COLLAPSED.search(style) and _CLIPPED.search(style))  # preheader trick
    )


class _TextExtractor:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # open elements: (tag, does it hide content?)
        self._open: Counter[str] = Counter()  # how many of each tag are open (O(1) lookups)
        self._hiding = 0  # open elements that hide their content
        self._quote_depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag in _VOID:
            return
        if tag == "blockquote":
            self._quote_depth += 1
        hides = _hides(tag, attrs)
        self._stack.append((tag, hides))
        self._open[tag] += 1
        self._hiding += hides

    def end(self, tag: str) -> None:
        """Close the innermost open `tag` and whatever was left open inside it; else ignore."""
        if tag in _BLOCK:
            self.parts.append("\n")
        if not self._open[tag]:
            return
        while self._stack:
            closed, hides = self._stack.pop()
            self._open[closed] -= 1
            self._hiding -= hides
            if closed == "blockquote":
                self._quote_depth -= 1
            if closed == tag:
                break

    def data(self, text: str) -> None:
        if self._hiding or not text:
            return
        text = html.unescape(text)
        if self._quote_depth:
            prefix = "> " * self._quote_depth
            text = "\n".join(prefix + line if line.strip() else line for line in text.split("\n"))
        self.parts.append(text)


def _extract(source: str) -> list[str]:
    extractor = _TextExtractor()
    position = 0
    while position < len(source):
        match = _TOKEN.search(source, position)
        if match is None:
            extractor.data(source[position:])
            break
        extractor.data(source[position : match.start()])
        position = match.end()
        closing, tag, attributes = match.groups()
        if tag is None:
            continue  # comment, doctype, processing instruction
        tag = tag.lower()
        if closing:
            extractor.end(tag)
            continue
        extractor.start(tag, _attributes(attributes))
        if tag in _RAW_TEXT:  # content up to the matching end tag is text, never markup
            end = re.compile(rf"</{tag}\s*>", re.I).search(source, position)
            stop = end.start() if end else len(source)
            extractor.data(source[position:stop])
            extractor.end(tag)
            position = end.end() if end else len(source)
    return extractor.parts


def html_to_text(html_source: str) -> str:
    """Visible text of an HTML body; `<blockquote>` content comes out `>`-quoted."""
    text = "".join(_extract(html_source))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
