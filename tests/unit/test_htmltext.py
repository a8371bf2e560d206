"""HTML bodies become the text a person would read: hidden parts out, quotes `>`-quoted."""

from __future__ import annotations

import pytest

from maildesk.mail.htmltext import html_to_text


def test_paragraphs_and_line_breaks_become_lines_and_entities_are_decoded() -> None:
    source = "<html><body><p>Hello&nbsp;Bob,</p><p>it&#39;s &lt;broken&gt;.<br>Carol</p></body>"

    assert html_to_text(source) == "Hello Bob,\n\nit's <broken>.\nCarol"


@pytest.mark.parametrize(
    "hidden",
    [
        "<script>alert('x')</script>",
        "<style>p { color: red }</style>",
        "<head><title>Newsletter</title></head>",
        '<div style="display:none">secret</div>',
        '<span style="font-size: 0px">secret</span>',
        "<div hidden>secret</div>",
        '<span aria-hidden="true">secret</span>',
        '<div style="max-height:0;overflow:hidden">preheader</div>',
        "<!-- a comment <p>with a tag</p> -->",
    ],
)
def test_what_a_reader_never_sees_is_left_out(hidden: str) -> None:
    assert html_to_text(f"<p>Visible</p>{hidden}<p>text</p>") == "Visible\n\ntext"


def test_a_blockquote_comes_out_quoted_and_nested_quotes_twice() -> None:
    source = "<p>Yes.</p><blockquote>Is it on?<blockquote>It burns.</blockquote></blockquote>"

    assert html_to_text(source) == "Yes.\n\n> Is it on?\n> > It burns."


def test_markup_inside_a_script_is_never_taken_for_tags() -> None:
    source = "<script>document.write('<p>hi</p>')</script><p>after</p>"

    assert html_to_text(source) == "after"


def test_unclosed_and_stray_tags_lose_no_text() -> None:
    assert html_to_text("<div><b>bold <i>both</div> plain </span>end") == "bold both\nplain end"


def test_an_unterminated_tag_is_text_up_to_the_next_tag() -> None:
    assert html_to_text("a < b and <p>c") == "a < b and\nc"
