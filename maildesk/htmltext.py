"""HTML mail bodies → plain text a person would read; hidden elements are left out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
_SKIP = {"script", "style", "head", "title", "template"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr", "source"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []  # one flag per open element: does it hide its content?
        self._quote_depth = 0

    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hides = (
            tag in _SKIP
            or "hidden" in values
            or bool(_HIDDEN_STYLE.search(values.get("style") or ""))
            or values.get("aria-hidden") == "true"
        )
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "blockquote":
            self._quote_depth += 1
        if tag not in _VOID:
            self._stack.append(hides)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._stack:
            self._stack.pop()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden():
            return
        if self._quote_depth:
            prefix = "> " * self._quote_depth
            data = "\n".join(prefix + line if line.strip() else line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body; `<blockquote>` content comes out `>`-quoted."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
