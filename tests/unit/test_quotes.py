"""strip_quoted keeps what the author newly wrote; split_signature separates the signature."""

# ruff: noqa: RUF001  (mail in many languages: Cyrillic letters and typographic quotes are meant)

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from maildesk.mail.quotes import signs_off, split_signature, strip_quoted
from tests.growth import LINEAR_AT_MOST, growth
from tests.hostile import QUOTED_REPLY, Hostile

DATA = Path(__file__).resolve().parents[1] / "data"


def text_of(sample: str) -> str:
    """The text/plain body of a sample mail, decoded as a mail client would."""
    raw = (DATA / sample).read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


# --- real replies ------------------------------------------------------------------------


def test_a_gmail_reply_keeps_only_the_new_text() -> None:
    assert strip_quoted(text_of("gmail_reply.eml")) == (
        "Hi,\n\n"
        "I’ve reset my browser cache as you suggested and now the login works again. "
        "The “Session expired” message is gone too.\n\n"
        "Thanks for the quick help!\n"
        "Carla"
    )


def test_an_outlook_reply_is_cut_at_its_from_sent_to_block() -> None:
    stripped = strip_quoted(text_of("outlook_reply.eml"))

    assert stripped.startswith("Hi,\n\nthe printer on the 3rd floor works again")
    assert stripped.endswith("Bob Customer\nFacilities | Example Corp")
    assert "Sent:" not in stripped and "Hello Bob" not in stripped


def test_a_german_outlook_reply_is_cut_at_urspruengliche_nachricht() -> None:
    stripped = strip_quoted(text_of("iso8859_1.eml"))

    assert stripped.endswith("Freundliche Grüße / Meilleures salutations\nFrançois Müller")
    assert "ça concerne aussi notre filiale à Genève" in stripped
    assert "Gesendet" not in stripped and "Spam-Ordner" not in stripped


def test_an_iphone_reply_drops_sent_from_my_iphone_and_the_quoted_history() -> None:
    assert strip_quoted(text_of("apple_mail_reply.eml")) == (
        "Yes, 2024-0611 is the right invoice number. The amount is fine now, I will \n"
        "pay it by Friday."
    )


def test_an_inline_reply_keeps_the_authors_lines_between_the_quotes() -> None:
    stripped = strip_quoted(text_of("inline_reply.eml"))

    assert stripped.startswith("Version 4.2.1, installed last week.\n\nNo, only in the desktop")
    assert "   2024-06-04 11:02:17 ERROR sync: timeout after 30s" in stripped
    assert stripped.endswith("Thanks,\nErik")
    assert "Which version" not in stripped and "wrote:" not in stripped


def test_a_russian_reply_is_cut_at_pishet_and_its_signature_dropped() -> None:
    assert strip_quoted(text_of("koi8r.eml")) == (
        "Здравствуйте!\n\n"
        "Принтер снова не печатает, горит красная лампочка.\n"
        "Перезагрузка не помогла."
    )


def test_a_new_mail_without_history_is_kept_whole() -> None:
    assert strip_quoted(text_of("utf8_encoded_words.eml")) == (
        text_of("utf8_encoded_words.eml").strip()
    )


# --- attributions ------------------------------------------------------------------------

ATTRIBUTIONS = [
    "On Mon, 3 Jun 2024 at 10:00, Alice <alice@example.com> wrote:",
    "On Mon, Jun 3, 2024 at 10:00 AM Alice Example <\nalice@example.com> wrote:",
    "On 3 Jun 2024, at 10:00, Alice <alice@example.com> wrote:",
    "Am Mo., 3. Juni 2024 um 10:00 Uhr schrieb Alice <alice@example.com>:",
    "Am 03.06.2024 um 10:00 schrieb Alice:",
    "Le lun. 3 juin 2024 à 10:00, Alice <alice@example.com> a écrit :",
    "El lun, 3 jun 2024 a las 10:00, Alice (<alice@example.com>) escribió:",
    "03.06.2024 10:00, Алиса пишет:",
    "Понедельник, 3 июня 2024, 10:00 +03:00 от Алиса <alice@example.com>\nнаписал(а):",
    "Op ma 3 jun 2024 om 10:00 schreef Alice <alice@example.com>:",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_a_top_posted_reply_is_cut_at_its_attribution(attribution: str) -> None:
    text = f"Thanks, that fixed it.\n\n{attribution}\n\n> Did the restart help?\n>\n> Desk\n"

    assert strip_quoted(text) == "Thanks, that fixed it."


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_an_attribution_over_unquoted_history_cuts_everything_below(attribution: str) -> None:
    text = f"Thanks!\n\n{attribution}\n\nDid the restart help?\nDesk\n"

    assert strip_quoted(text) == "Thanks!"


def test_an_inline_reply_keeps_the_authors_lines_in_order() -> None:
    text = (
        "On Mon, 3 Jun 2024 at 10:00, Desk <support@example.org> wrote:\n"
        "> Which printer?\n\nThe one on floor 3.\n\n> Since when?\n\nSince Monday.\n> Bye\n"
    )

    assert strip_quoted(text) == "The one on floor 3.\n\nSince Monday."


def test_a_reply_below_the_quote_is_kept() -> None:
    text = "On Mon, 3 Jun 2024, Alice wrote:\n> Is it fixed?\n\nYes, since this morning.\n"

    assert strip_quoted(text) == "Yes, since this morning."


def test_prose_that_only_looks_like_an_attribution_is_kept() -> None:
    text = "On the other hand, Bob wrote:\nthe report is late.\nFrom: the accounts team"

    assert strip_quoted(text) == text


# --- Outlook blocks and separators -------------------------------------------------------


def test_an_outlook_web_reply_with_an_underscore_rule_is_cut() -> None:
    text = (
        "Works now.\n\n________________________________\n"
        "From: Desk <support@example.org>\nSent: Monday, June 3, 2024 10:00 AM\n"
        "To: Bob <bob@example.com>\nSubject: Re: [TKT-1] Printer\n\nold text\n"
    )

    assert strip_quoted(text) == "Works now."


def test_a_german_outlook_header_block_is_cut() -> None:
    text = (
        "Geht wieder.\n\nVon: Desk <support@example.org>\nGesendet: Montag, 3. Juni 2024 10:00\n"
        "An: Bob <bob@example.com>\nBetreff: AW: [TKT-1] Drucker\n\nalter Text\n"
    )

    assert strip_quoted(text) == "Geht wieder."


def test_an_original_message_separator_cuts_the_history() -> None:
    text = "Done.\n\n-----Original Message-----\nFrom: Desk\nSubject: x\n\nold\n"

    assert strip_quoted(text) == "Done."


# --- forwards ----------------------------------------------------------------------------

FORWARD = (
    "---------- Forwarded message ---------\nFrom: Alice <alice@example.com>\n"
    "Date: Mon, 3 Jun 2024 at 10:00\nSubject: Broken invoice\nTo: Bob <bob@example.com>\n\n"
    "The invoice total is wrong.\n> an old quote inside the forward\n"
)


def test_a_forwarded_message_is_kept() -> None:
    assert strip_quoted(f"FYI, see below.\n\n{FORWARD}") == f"FYI, see below.\n\n{FORWARD}".strip()


def test_the_forwarders_own_signature_is_dropped_but_the_forward_kept() -> None:
    stripped = strip_quoted(f"FYI\n-- \nBob\n\n{FORWARD}")

    assert stripped == f"FYI\n\n{FORWARD}".strip()


OUTLOOK_FORWARD = (
    "From: Alice <alice@example.com>\nSent: Monday, June 3, 2024 10:00 AM\nTo: Bob\n"
    "Subject: FW: Broken invoice"
)


@pytest.mark.parametrize(
    ("marker", "kept"),
    [
        ("Begin forwarded message:", "Begin forwarded message:"),
        (
            "-------- Weitergeleitete Nachricht --------",
            "-------- Weitergeleitete Nachricht --------",
        ),
        (f"________________________________\n{OUTLOOK_FORWARD}", OUTLOOK_FORWARD),
    ],
)
def test_forwards_from_other_clients_are_kept(marker: str, kept: str) -> None:
    text = f"Please have a look.\n\n{marker}\n\nThe invoice total is wrong."

    assert strip_quoted(text) == f"Please have a look.\n\n{kept}\n\nThe invoice total is wrong."


def test_a_forward_inside_quoted_history_goes_with_the_history() -> None:
    quoted = "".join(f"> {line}\n" for line in FORWARD.splitlines())
    text = f"Thanks!\n\nOn Mon, 3 Jun 2024 at 10:00, Bob wrote:\n{quoted}"

    assert strip_quoted(text) == "Thanks!"


# --- signatures --------------------------------------------------------------------------


def test_a_signature_after_dash_dash_space_is_dropped() -> None:
    assert strip_quoted("See you.\n\n-- \nBob Customer\nExample Corp\n+1 555 0100\n") == "See you."


def test_a_bare_dash_dash_ends_only_a_short_trailing_block() -> None:
    assert strip_quoted("See you.\n--\nBob\nExample Corp\n") == "See you."
    long_tail = "\n".join(f"step {n}" for n in range(40))
    assert strip_quoted(f"Steps:\n--\n{long_tail}") == f"Steps:\n--\n{long_tail}"


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Von meinem iPhone gesendet",
        "Sent from my Galaxy\n\nSent from Mail for Windows",
    ],
)
def test_a_mobile_signature_on_the_last_lines_is_dropped(footer: str) -> None:
    assert strip_quoted(f"Yes, go ahead.\n\n{footer}\n") == "Yes, go ahead."


def test_a_mobile_phrase_inside_the_text_is_kept() -> None:
    text = "Sent from my iPhone\nbut the attachment is missing."

    assert strip_quoted(text) == text


def test_split_signature_returns_body_and_signature_without_the_delimiter() -> None:
    assert split_signature("Hi\n\n-- \nBob\nExample Corp\n") == ("Hi", "Bob\nExample Corp")
    assert split_signature("Hi\n\nSent from my iPhone") == ("Hi", "Sent from my iPhone")
    assert split_signature("Hi, no signature here.") == ("Hi, no signature here.", "")


# --- edges ---------------------------------------------------------------------------------


def test_a_message_that_is_only_a_quote_gives_empty_text() -> None:
    assert strip_quoted("On Mon, 3 Jun 2024, Bob wrote:\n> Hello\n> there\n") == ""
    assert strip_quoted("-- \nBob") == ""
    assert strip_quoted("  \r\n\r\n") == ""


def test_line_endings_are_normalised_and_trailing_whitespace_removed() -> None:
    assert strip_quoted("\r\n  \r\nOne\r\nTwo\rThree  \r\n\r\n") == "One\nTwo\nThree"


# --- properties ----------------------------------------------------------------------------

# Prose as people write it: colons in labels, times, URLs and reply prefixes; ">" inside a
# line; attribution-like openings ("On Monday at 10:00 we meet:") without a "wrote".
LABELS = st.sampled_from(["Note:", "PS:", "TODO:", "Hinweis:", "Примечание:", "Q:", "Step 2:"])
PREFIXES = st.sampled_from(["Re:", "RE:", "AW:", "Fwd:", "Ответ:"])
URLS = st.sampled_from(["https://x.example/a:b", "http://[::1]:8080/", "mailto:c@acme.test"])
SIGNS = st.sampled_from(["C:\\Temp", ":-)", "3:1", "a > b", "->", "x = y", "*bold*", "_it_"])
TIMES = st.builds("{}:{:02d}".format, st.integers(0, 23), st.integers(0, 59))
OPENINGS = st.sampled_from(["On", "Am", "Le", "El", "Op", "3 Jun 2024,", "10.06.2024", "um"])
COMMON_WORDS = st.sampled_from(["we", "meet", "the", "printer", "is", "on", "fire", "Alice"])
RANDOM_WORDS = st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=8)
WORD = st.one_of(
    LABELS,
    PREFIXES,
    URLS,
    SIGNS,
    TIMES,
    OPENINGS,
    COMMON_WORDS,
    RANDOM_WORDS.filter(lambda w: w[0] != ">"),
)
PROSE_LINE = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "", "  "]),
    st.lists(WORD, min_size=1, max_size=12).map(" ".join),
    st.sampled_from(["", "", ":", " ", "\t"]),
)
PROSE = st.lists(st.one_of(PROSE_LINE, st.just("")), min_size=1, max_size=15).map("\n".join)
# What prose never holds, by definition: a reply verb or a mail client's signature footer.
NOT_PROSE = re.compile(
    r"wrote|schrieb|schreef|écrit|escribió|пишет|написал"
    r"|sent from|get outlook|von meinem|envoy|enviado|отправлено",
    re.I,
)
TRICKY = st.sampled_from(
    [
        "> quoted",
        ">",
        "",
        "  ",
        "-- ",
        "--",
        "____",
        "On Mon, 3 Jun 2024 at 10:00, Alice <a@example.com> wrote:",
        "On Mon, 3 Jun 2024 at 10:00, Alice <",
        "a@example.com> wrote:",
        "03.06.2024 10:00, Алиса пишет:",
        "From: Alice",
        "Sent: Monday",
        "To: Bob",
        "Subject: FW: x",
        "-----Original Message-----",
        "---------- Forwarded message ---------",
        "Sent from my iPhone",
        "text",
    ]
)
ANY_TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=30)), max_size=40).map("\n".join)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    rest = iter(haystack)
    return all(any(needle == line for line in rest) for needle in needles)


def as_kept(prose: str) -> str:
    """Prose as strip_quoted returns it: without leading blank lines and trailing whitespace."""
    lines = prose.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip()


@given(PROSE)
@example("Note: the printer is on fire.\nOn Monday at 10:00 we meet:\nRe: https://x.example/a:b")
@example("Am 10.06.2024 um 10:00:\nAlice")
def test_prose_with_colons_times_and_urls_is_kept_intact(text: str) -> None:
    assume(not NOT_PROSE.search(text))

    assert strip_quoted(text) == as_kept(text)


@given(prose=PROSE, rest=ANY_TEXT)
def test_what_follows_never_eats_the_prose_above_it_and_nothing_is_invented(
    prose: str, rest: str
) -> None:
    assume(not NOT_PROSE.search(prose))
    text = f"{prose}\n\n{rest}"
    stripped = strip_quoted(text)

    assert stripped.startswith(as_kept(prose))
    output = [line for line in _lines(stripped) if line.strip()]
    assert _is_subsequence(output, _lines(text))


# --- speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", QUOTED_REPLY.values(), ids=QUOTED_REPLY.keys())
def test_pathological_text_takes_time_linear_in_its_size(hostile: Hostile) -> None:
    # n is a sixty-fourth of the megabyte `python -m bench.hostile` times: 16 KB against 128 KB
    assert growth(strip_quoted, hostile.text, hostile.count // 64) < LINEAR_AT_MOST


# --- sign-offs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Done.\n\nAlice",
        "Done.\n\nThanks,\nAlice",
        "Done.\n\nThanks, Alice",
        "Done.\n\nKind regards, Alice Example",
        "Done.\n\n— Alice",
        "Done.\n\nCheers - alice!",
        "Done.\n\nAlice Example\n",
    ],
)
def test_a_sign_off_with_the_writers_name_is_recognised(text: str) -> None:
    assert signs_off(text, "Alice Example")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Done.", "Alice"),
        ("I asked Alice", "Alice"),
        ("Please call Alice, she knows.", "Alice"),
        ("Done.\n\nBob", "Alice"),
        ("Done.\n\nAlicia", "Alice"),
        ("Done.\n\nalice@example.com", "alice@example.com"),  # no name known: never a sign-off
        ("", "Alice"),
    ],
)
def test_text_that_does_not_end_with_the_writers_name_is_no_sign_off(text: str, name: str) -> None:
    assert not signs_off(text, name)
