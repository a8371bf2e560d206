"""Seconds the text readers take on a megabyte of hostile input (tests/hostile.py).

The tests only check that the time grows linearly with the size; this prints the figure itself.
Run from the repository root: `python -m bench.hostile`. Prints figures, asserts nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from maildesk.mail.htmltext import html_to_text
from maildesk.mail.quotes import strip_quoted
from tests.hostile import HTML, QUOTED_REPLY, Hostile


def _report(reader: str, work: Callable[[str], object], cases: dict[str, Hostile]) -> None:
    for name, hostile in cases.items():
        text = hostile.text(hostile.count)
        started = time.perf_counter()
        work(text)
        seconds = time.perf_counter() - started
        print(f"{reader:<14} {name:<24} {len(text) / 1e6:5.2f} MB {seconds:7.3f} s", flush=True)


def main() -> None:
    _report("strip_quoted", strip_quoted, QUOTED_REPLY)
    _report("html_to_text", html_to_text, HTML)


if __name__ == "__main__":
    main()
