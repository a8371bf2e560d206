"""Hostile inputs for the text readers: a unit repeated, cheap for linear code, ruinous for
quadratic code. The tests check how the time grows with the count; `bench/hostile.py` prints
the time at full size.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    unit: str
    count: int  # repetitions at full size
    tail: str = ""

    def text(self, count: int) -> str:
        return self.unit * count + self.tail


# Quoted-reply detection (maildesk.mail.quotes.strip_quoted): about a megabyte each at full size.
QUOTED_REPLY = {
    "quote-lines": Hostile(">\n", 500_000),
    "one-quote-line": Hostile(">", 1_000_000),
    "on-on-on": Hostile("On ", 340_000, tail="wrote:"),
    "attribution-lookalikes": Hostile("On 1 On On On On On On On On On wrote wrote:\n", 22_000),
    "german-lookalikes": Hostile("Am 1 schrieb schrieb schrieb schrieb schrieb : x:\n", 20_000),
    "from-lines": Hostile("From: x\nSent: y\n", 60_000),
    "dash-dash": Hostile("--\nx\n", 250_000),
    "colon-lines": Hostile("1:\n", 333_000),
    "blank-lines": Hostile("\n", 1_000_000),
    "alternating": Hostile("> q\na\n", 200_000),
}

# HTML bodies (maildesk.mail.htmltext): the stdlib HTMLParser needs minutes for each at full size.
HTML = {
    "unclosed-tags": Hostile("<a ", 100_000),
    "unclosed-quotes": Hostile("<a x='", 50_000),
    "unclosed-comments": Hostile("<!--", 100_000),
    "deep-divs": Hostile("<div>a", 100_000),
    "brackets": Hostile("<", 300_000),
}
