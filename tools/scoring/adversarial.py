"""Adversarial texts at the largest size a post may have, for the bench and the tests.

Each is built to hit the worst case of one reader: an unclosed construct repeated (``{%``, ``<a``,
``<!--``), runs a greedy pattern must give back, many short matches. The tests check that each gives
the right result; ``make bench`` times them (ms per input), so a super-linear reader shows as a
figure instead of as a scorer timeout.
"""

from __future__ import annotations

from collections.abc import Callable

from crisiswatch.limits import POST_TEXT_MAX_CHARS

# A post's text is cut at POST_TEXT_MAX_CHARS where the Post is built, but the readers before that
# (HTML to text, feeds) see the platform's raw field: four times the limit (20,000) keeps a margin
# that a super-linear reader could not hide in.
MAX_TEXT_CHARS = 4 * POST_TEXT_MAX_CHARS


def _fill(unit: str, size: int = MAX_TEXT_CHARS) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Post text (what normalize, score, match and fold see).
TEXTS: dict[str, Callable[[int], str]] = {
    "repeated {%": lambda n: _fill("{%", n),
    "repeated {%x%": lambda n: _fill("{%x%", n),
    "nested brackets": lambda n: "(" * (n // 2) + ")" * (n // 2),
    "nested [ and {": lambda n: _fill("[{", n // 2) + _fill("]}", n // 2),
    "whitespace run": lambda n: " " * (n - 1) + "x",
    "mixed whitespace": lambda n: _fill(" \t\u3000\n", n - 1) + "x",
    "many URLs": lambda n: _fill("http://t.cn/A6ab ", n),
    "unterminated URL": lambda n: "http://" + "a" * (n - 7),
    "many @mentions": lambda n: _fill("@鲜味坊: ", n),
    "repost chain": lambda n: _fill("//@a:", n),
    "topic marks": lambda n: _fill("#", n),
    "emoticon brackets": lambda n: _fill("[怒", n),
    "one character": lambda n: "哈" * n,
    "reply prefix + spaces": lambda n: "回复" + " " * (n - 3) + "@",
    "HTML-ish junk": lambda n: _fill('<a href="x<!--&#x{%//@[', n),
}

# Platform HTML (what ingest.fields.html_to_text sees: Weibo post HTML, Bilibili titles, feeds).
HTML: dict[str, Callable[[int], str]] = {
    "repeated <a": lambda n: _fill("<a", n),
    "repeated <a b='": lambda n: _fill("<a b='", n),
    "repeated </": lambda n: _fill("</", n),
    "repeated <!--": lambda n: _fill("<!--", n),
    "repeated <![": lambda n: _fill("<![", n),
    "repeated <?": lambda n: _fill("<?", n),
    "repeated &#x1": lambda n: _fill("&#x1", n),
    "unclosed <script>": lambda n: "<script>" + _fill("<", n - 8),
    "many tags": lambda n: _fill("<span>哈</span><br/>", n),
}
