"""News feeds built to be expensive: entity expansion is refused, adversarial summaries at the
largest post size read to the right text (issue 11, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

from crisiswatch.ingest.errors import MalformedResponse
from crisiswatch.ingest.feeds import parse_search_page
from crisiswatch.limits import POST_TEXT_MAX_CHARS
from crisiswatch.vocabulary import Watch
from tools.scoring.adversarial import HTML, MAX_TEXT_CHARS

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
WATCH = Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊"])


def feed(summary: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>新闻</title>'
        f"<item><guid>n-1</guid><title>鲜味坊</title><description>{summary}</description></item>"
        "</channel></rss>"
    ).encode()


def billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f"<!DOCTYPE rss [{''.join(entities)}]>"


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(MalformedResponse, match="declares XML entities"):
        parse_search_page(feed("&lol9;", billion_laughs()), WATCH, NOW, NOW)


def test_external_entity_is_refused() -> None:
    doctype = '<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(MalformedResponse, match="declares XML entities"):
        parse_search_page(feed("&x;", doctype), WATCH, NOW, NOW)


def test_a_doctype_without_entities_is_read() -> None:
    doctype = '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "rss-0.91.dtd">'
    page = parse_search_page(feed("变质", doctype), WATCH, NOW, NOW)
    assert [p.text for p in page.posts] == ["鲜味坊\n变质"]


@pytest.mark.parametrize("name", sorted(HTML))
def test_adversarial_summary_at_the_maximum_size(name: str) -> None:
    page = parse_search_page(feed(escape(HTML[name](MAX_TEXT_CHARS))), WATCH, NOW, NOW)
    assert len(page.posts) == 1 and page.posts[0].text.startswith("鲜味坊")


def test_adversarial_summary_outcome() -> None:
    page = parse_search_page(feed(escape(HTML["repeated <!--"](MAX_TEXT_CHARS))), WATCH, NOW, NOW)
    read = "鲜味坊\n" + "<!--" * (MAX_TEXT_CHARS // 4)  # read whole, then cut where the Post is built
    assert (page.posts[0].text, page.posts[0].text_length) == (read[:POST_TEXT_MAX_CHARS], len(read))
