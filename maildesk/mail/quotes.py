"""What a person newly wrote in a reply: quoted history and signatures cut, forwards kept.

Pure functions over decoded text; every pattern is line-anchored and linear in the text size.
"""

from __future__ import annotations

import re

_MAX_HEADER_LINE = 300  # attribution and separator lines are short; longer lines never match
_MIN_ATTRIBUTION = 12  # "On 3 Jun, A wrote:" and shorter lines are cheaply ruled out
_HEADER_WINDOW = 8  # lines after an Outlook "From:" in which "Sent:"/"To:" must appear
_SHORT_SIGNATURE = 8  # a bare "--" only counts when at most this many short lines follow
_GREETING = r"[^\W\d][\w .'\u2019]{0,30}"  # "Thanks", "Kind regards", "Bien à vous"
_COMMA_OR_DASH = r"[,\u2013\u2014-]"  # between a greeting and the name
_MAX_SIGN_OFF = 60  # "Kind regards, Alice Example" and the like; a longer last line is text

_I = re.IGNORECASE
_DIGIT = re.compile(r"\d")
_ATTRIBUTION_START = re.compile(r"(?:On|Am|Le|El|Op)\s")
_LATIN_VERB = re.compile(r"\s(?:wrote|schrieb|schreef|a\s?écrit|escribió)(?:\s|$)")
_CYRILLIC_VERB = re.compile(r"\s(?:пишет|написала?|написал\(а\))\s*$")  # noqa: RUF001
_ORIGINAL = re.compile(
    r"-{3,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|исходное сообщение)\s*-{3,}",
    _I,
)
_FORWARD = re.compile(
    r"-{3,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado"
    r"|messaggio inoltrato|doorgestuurd bericht|пересылаемое сообщение)\s*-{3,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:"
    r"|début du message réexpédié\s?:|начало переадресованного сообщения:",
    _I,
)
_OUTLOOK_FROM = re.compile(r"\*?(?:from|von|de|van|da|от)\s?:", _I)
_OUTLOOK_FIELD = re.compile(
    r"\*?(?:(?P<date>sent|date|gesendet|datum|envoyé|enviado|fecha|verzonden|inviato|data"
    r"|отправлено|дата)|(?P<to>to|subject|an|betreff|à|objet|para|asunto|aan|onderwerp|a"
    r"|oggetto|кому|тема))\s?:",
    _I,
)
_FORWARD_SUBJECT = re.compile(
    r"\*?(?:subject|betreff|objet|asunto|onderwerp|oggetto|тема)\s?:\*?\s*"
    r"(?:fwd?|wg|tr|rv|enc|doorst|i|пересл)\s?:",
    _I,
)
_MOBILE_SIGNATURE = re.compile(
    r"(?:sent from my [\w ]{1,40}|sent from (?:mail|outlook|yahoo mail) for [\w ]{1,40}"
    r"|get outlook for (?:ios|android)\b.{0,80}|von meinem [\w ]{1,40} gesendet"
    r"|envoyé de mon [\w ]{1,40}|enviado desde mi [\w ]{1,40}|отправлено с [\w ]{1,40})\.?",  # noqa: RUF001
    _I,
)
_SEPARATOR = re.compile(r"[\s_=*-]*")


def strip_quoted(text: str) -> str:
    """Return only what the author of a reply wrote, without quoted history or signature.

    Reply history is cut at its attribution ("On … wrote:", "Am … schrieb …:", …), at an
    Outlook header block ("From:/Sent:/To:") or at "-----Original Message-----". Lines
    quoted with ">" are dropped, but the author's lines between them (an inline reply) are
    kept in order, with no marker where a quote was. A forward is content the author chose
    to send: from a forward marker ("---------- Forwarded message ---------", "Begin
    forwarded message:", an Outlook block whose subject starts "FW:") on, the text is kept
    verbatim. The signature ("-- " and what follows, a bare "--" before a short last block,
    "Sent from my iPhone" and kin) is dropped. Line endings become "\\n"; leading blank
    lines and trailing whitespace go. When everything was quoted or signature the result
    is "": the full original is stored anyway.
    """
    lines = _normalise(text).split("\n")
    cut, is_forward = _find_cut(lines)
    forwarded = lines[cut:] if is_forward else []
    own = _drop_signature(_drop_quotes(_trim_end(lines[:cut])))
    return "\n\n".join(part for part in (_join(own), _join(forwarded)) if part)


def split_signature(text: str) -> tuple[str, str]:
    """Split text into (body, signature); the "-- " delimiter belongs to neither part."""
    lines = _trim_end(_normalise(text).split("\n"))
    body = _drop_signature(lines)
    rest = _drop_leading_blanks(lines[len(body) :])
    if rest and rest[0].rstrip() == "--":
        rest = rest[1:]
    return _join(body), _join(rest)


def signs_off(text: str, name: str) -> bool:
    """Whether the text ends with the writer's sign-off: "Alice", "Thanks, Alice", "— Alice Smith".

    The last line must be the name (full, or its first word) alone, or after a short
    greeting and a comma or dash: "I asked Alice" is no sign-off.
    """
    words = name.split()
    last = _normalise(text).rstrip().rpartition("\n")[2].strip()
    if not words or "@" in name or not last or len(last) > _MAX_SIGN_OFF:
        return False
    names = "|".join(re.escape(n) for n in sorted({" ".join(words), words[0]}, key=len)[::-1])
    lead = rf"(?:{_GREETING}{_COMMA_OR_DASH}\s*|{_COMMA_OR_DASH}+\s*)?"
    return re.fullmatch(rf"{lead}(?:{names})\s*[.!]?", last, flags=_I) is not None


def _join(lines: list[str]) -> str:
    return "\n".join(_drop_leading_blanks(lines)).rstrip()


def _drop_leading_blanks(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return lines[start:]


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_quote(line: str) -> bool:
    return line.lstrip()[:1] == ">"


def _find_cut(lines: list[str]) -> tuple[int, bool]:
    """Index where reply history or a forward begins (len(lines) if none), and which it is."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > _MAX_HEADER_LINE or _is_quote(line):
            continue
        if _FORWARD.fullmatch(stripped):
            return i, True
        if _ORIGINAL.fullmatch(stripped):
            return i, False
        if _OUTLOOK_FROM.match(stripped) and (kind := _outlook_block(lines, i)):
            return i, kind == "forward"
        span = _attribution_span(lines, i)
        if span and not _quote_follows(lines, i + span):
            return i, False  # an attribution over unquoted history: all of it is history
    return len(lines), False


def _outlook_block(lines: list[str], start: int) -> str | None:
    """Whether an Outlook-style header block starts at lines[start]: "reply", "forward", None."""
    found: set[str] = set()
    forwarded = False
    for line in lines[start + 1 : start + 1 + _HEADER_WINDOW]:
        text = line.lstrip()[:_MAX_HEADER_LINE]
        field = _OUTLOOK_FIELD.match(text)
        if field and field.lastgroup:
            found.add(field.lastgroup)
            forwarded = forwarded or bool(_FORWARD_SUBJECT.match(text))
        elif text.strip() and not found:
            return None  # the line after "From:" must be another header field
    if found != {"date", "to"}:
        return None
    return "forward" if forwarded else "reply"


def _is_attribution(line: str) -> bool:
    text = line.strip()
    if not _MIN_ATTRIBUTION <= len(text) <= _MAX_HEADER_LINE or not text.endswith(":"):
        return False
    if not _DIGIT.search(text):
        return False
    after_last_colon = text[:-1].rpartition(":")[2]  # the verb comes after any time "10:00"
    if _CYRILLIC_VERB.search(after_last_colon):
        return True
    return bool(_ATTRIBUTION_START.match(text) and _LATIN_VERB.search(after_last_colon))


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines (0, 1 or 2: mail clients wrap long ones) form an attribution at i."""
    if _is_attribution(lines[i]):
        return 1
    if i + 1 >= len(lines) or len(lines[i]) + len(lines[i + 1]) > _MAX_HEADER_LINE:
        return 0
    wrapped = lines[i + 1].strip()
    if not wrapped.endswith(":") or wrapped.startswith(">"):
        return 0
    return 2 if _is_attribution(lines[i].strip() + " " + wrapped) else 0


def _quote_follows(lines: list[str], i: int) -> bool:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i < len(lines) and _is_quote(lines[i])


def _drop_quotes(lines: list[str]) -> list[str]:
    """Drop ">" lines and the attribution just above them; keep the author's lines between."""
    kept: list[str] = []
    dropped = False  # since the last kept text line; collapses blank lines around a gap
    i = 0
    while i < len(lines):
        line = lines[i]
        span = 1 if _is_quote(line) else 0
        if not span and line.strip():
            span = _attribution_span(lines, i)
            span = span if span and _quote_follows(lines, i + span) else 0
        if span:
            dropped, i = True, i + span
            continue
        if line.strip():
            dropped = False
        elif dropped and kept and not kept[-1].strip():
            i += 1
            continue
        kept.append(line)
        i += 1
    return kept


def _drop_signature(lines: list[str]) -> list[str]:
    """Lines before the signature: "-- ", a bare "--" over a short tail, or a mobile footer."""
    for i, line in enumerate(lines):
        if line.rstrip() == "--" and (line != "--" or _is_short_tail(lines, i + 1)):
            lines = lines[:i]
            break
    end = _content_end(lines, len(lines))
    while end and _MOBILE_SIGNATURE.fullmatch(lines[end - 1].strip()):
        end = _content_end(lines, end - 1)
    return lines[:end]


def _is_short_tail(lines: list[str], start: int) -> bool:
    tail = lines[start:] if len(lines) - start <= _SHORT_SIGNATURE * 4 else None
    if tail is None or any(len(line) > 100 for line in tail):
        return False
    return sum(1 for line in tail if line.strip()) <= _SHORT_SIGNATURE


def _trim_end(lines: list[str]) -> list[str]:
    return lines[: _content_end(lines, len(lines))]


def _content_end(lines: list[str], end: int) -> int:
    """End of lines[:end] without trailing blank lines and separator rules ("____", "----")."""
    while end and len(lines[end - 1]) <= _MAX_HEADER_LINE and _SEPARATOR.fullmatch(lines[end - 1]):
        end -= 1
    return end
