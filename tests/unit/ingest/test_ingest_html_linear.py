"""html_to_text reads HTML in one linear pass: the same text as Python's HTMLParser on the HTML
platforms send, and the right text (no exception) on adversarial HTML at the largest post size
(issue 11, item 3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.ingest import fields
from crisiswatch.ingest.fields import html_to_text
from tools.scoring.adversarial import HTML, MAX_TEXT_CHARS


def with_html_parser(html: str) -> str:
    """What html_to_text gave when HTMLParser.feed drove the extractor."""
    parser = fields._TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = (fields._RE_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# The pieces of the HTML that Weibo, Bilibili and feeds send, in any order.
PIECES = [
    "鲜味坊",
    "变质了",
    " ",
    "  \u3000",
    "\n",
    "a < b",
    "&amp;",
    "&lt;好&gt;",
    "&#34;",
    "&quot;",
    "&nbsp;",
    "<span>",
    "</span>",
    '<span class="url-icon">',
    "<a href='/n/小王'>",
    '<a  href="https://m.weibo.cn/search?q=%23x%23" data-hide="">',
    '<a href="/status/4999">',
    "<a href=/status/1>",
    "</a>",
    '<img alt=[怒] src="x.png" style="width:1em; height:1em;" />',
    '<img alt="[泪]" src="x.png">',
    "<img src='loc.png'>",
    "<IMG ALT='[doge]'/>",
    "<br>",
    "<br/>",
    "<br />",
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    '<em class="keyword">',
    "</em>",
    "<!-- a comment -->",
    "<!DOCTYPE html>",
    "<script>var a = '<b>';</script>",
    "<style>p { color: red }</style>",
    "</li>",
    "<li>",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_linear_scan_reads_platform_html_as_html_parser_does(pieces: list[str]) -> None:
    html = "".join(pieces)
    assert fields._html_to_text(html) == with_html_parser(html)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<a", "<a"),
        ("x <a b='c", "x <a b='c"),
        ("<![CDATA[x]]>后", "后"),
        ("<!-- 未闭合", "<!-- 未闭合"),
        ("a<b", "a<b"),
        ("<script>不要", ""),
        ("<img alt='[怒]>", "[怒]"),
        ("</>文", "文"),
    ],
)
def test_malformed_html(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize("name", sorted(HTML))
def test_adversarial_html_at_the_maximum_size(name: str) -> None:
    html = HTML[name](MAX_TEXT_CHARS)
    text = html_to_text(html)  # Python 3.11's HTMLParser raised AssertionError on "<![" repeated
    assert len(text) <= len(html)


def test_adversarial_html_outcomes() -> None:
    assert html_to_text(HTML["repeated <a"](MAX_TEXT_CHARS)) == "<a" * (MAX_TEXT_CHARS // 2)
    assert html_to_text(HTML["repeated <!--"](MAX_TEXT_CHARS)) == "<!--" * (MAX_TEXT_CHARS // 4)
    assert html_to_text(HTML["unclosed <script>"](MAX_TEXT_CHARS)) == ""
    many = html_to_text(HTML["many tags"](MAX_TEXT_CHARS)).replace("\n", "")
    assert many == "哈" * (MAX_TEXT_CHARS // 19 + 1) + "</spa"  # the fill cuts the last "</span>"
