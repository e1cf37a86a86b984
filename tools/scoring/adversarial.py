"""Adversarial texts at the largest size a post may have, for the bench and the tests.

Each is built to hit the worst case of one reader: an unclosed construct repeated (``{%``, ``<a``,
``<!--``), runs a greedy pattern must give back, many short matches. The tests check that each gives
the right result; ``make bench`` times them (ms per input), so a super-linear reader shows as a
figure instead of as a scorer timeout.
"""

from __future__ import annotations

from collections.abc import Callable

try:  # the limit of issue 11, once crisiswatch.limits defines it
    from crisiswatch.limits import MAX_POST_TEXT_CHARS as MAX_TEXT_CHARS  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until then, the pushed-post size the issue names
    MAX_TEXT_CHARS = 20_000


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
