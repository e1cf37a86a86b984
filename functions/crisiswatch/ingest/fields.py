"""Readers for the scalar values platforms send, shared by the adapters.

Display counts ("1.2万", "10万+"), HTML text (Weibo's post HTML, Bilibili's highlighted titles, feed
summaries), ids that arrive as ints or strings, epoch and ISO times, and short descriptions of what
went wrong for error messages and skip reasons. Everything here is pure and raises ``ValueError``
(never anything platform-specific) on input it cannot read.
"""

from __future__ import annotations

import html as html_entities
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from html.parser import HTMLParser
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from crisiswatch.ingest.errors import excerpt

# China has had no daylight saving since 1991: a fixed offset is exact and needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

# --------------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------------

_RE_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|W|亿|k|K)?\+?")
_UNITS = {None: 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}


def parse_count(value: Any) -> int:
    """A display counter: an int, or a string such as "1万+", "100万+", "1.2万", "3亿", "1,024", "1.5w".

    Display strings are lower bounds ("1万+" -> 10000). None or "" -> 0. Anything else (negative
    numbers, words, booleans) raises ``ValueError``.
    """
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"count is a boolean: {value!r}")
    if isinstance(value, int | float):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"count is negative or not finite: {value!r}")
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
        if not text:
            return 0
        m = _RE_COUNT.fullmatch(text)
        if m:
            try:
                return int(Decimal(m.group(1)) * _UNITS[m.group(2)])
            except InvalidOperation:  # pragma: no cover - the regex admits only decimals
                pass
    raise ValueError(f"unreadable count: {excerpt(str(value), 30)!r}")


Count = Annotated[int, BeforeValidator(parse_count)]

# --------------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------------


def id_string(value: Any) -> Any:
    """An id as a string: ints become strings, strings are stripped; anything else is left for
    validation to reject."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


IdString = Annotated[str, BeforeValidator(id_string), Field(min_length=1, max_length=40)]


class Lenient(BaseModel):
    """Base of the edge models: platforms add fields all the time; we read only what we need."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --------------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------------

# 2000-01-01 .. 2100-01-01: outside this an "epoch" is a unit mistake (ms read as s) or garbage.
_EPOCH_MIN, _EPOCH_MAX = 946_684_800, 4_102_444_800


def from_epoch(value: Any, *, milliseconds: bool = False) -> datetime:
    """Epoch seconds (or milliseconds) as an aware UTC datetime. Ints, floats and digit strings are
    accepted; a value outside 2000-2100 raises ``ValueError`` (usually seconds read as ms or the
    other way round)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"epoch time is missing or not a number: {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"epoch time is not a number: {excerpt(value, 30)!r}") from None
    if not isinstance(value, int | float) or value != value:
        raise ValueError(f"epoch time is not a number: {value!r}")
    seconds = value / 1000 if milliseconds else value
    if not _EPOCH_MIN <= seconds <= _EPOCH_MAX:
        unit = "ms" if milliseconds else "s"
        raise ValueError(f"epoch time out of range (2000-2100) in {unit}: {value!r}")
    return datetime.fromtimestamp(seconds, UTC)


def from_iso(value: Any, *, naive_tz: timezone = CHINA_TZ) -> datetime:
    """An ISO 8601 time ("2026-11-20T12:00:00+08:00", "2026-11-20 12:00:00", "...Z") as aware UTC.
    A time without offset is read in ``naive_tz`` (China time by default)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"ISO time is missing or not a string: {value!r}")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {excerpt(text, 40)!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------------------------------
# HTML -> text
# --------------------------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Post HTML to plain text: tags dropped, emoticon images become their alt text ("[怒]"),
    <br> (and block ends) become a newline, Weibo's "全文" (full text) link of a truncated post and
    scripts/styles are dropped.

    Driven by ``_scan_html`` (linear), not by ``HTMLParser.feed``: Python 3.11's parser is quadratic
    on repeated unclosed constructs (``<a``, ``<a b='``, ``<!--``: 20,000 characters of them took
    0.6-1.5 s, 40,000 four times that) and raises AssertionError on ``<![``. It stays an
    ``HTMLParser`` so that the tests can compare the two readings on ordinary HTML.
    """

    _BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # inside <a href="/status/..."> (the 全文 link) or <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_depth:
            if tag in ("a", "script", "style"):
                self._skip_depth += 1
            return
        attributes = dict(attrs)
        if tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self.parts.append(alt)
        elif tag in ("script", "style") or (tag == "a" and "/status/" in (attributes.get("href") or "")):
            self._skip_depth = 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("a", "script", "style") and self._skip_depth:
            self._skip_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth and tag in ("a", "script", "style"):
            self._skip_depth -= 1
        elif not self._skip_depth and tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


_RE_SPACES = re.compile(r"[ \t\r\u00a0\u200b\u3000]+")
_RE_TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
# An attribute: a name, then maybe "=" and a value; an unclosed quote runs to the end of the tag.
# Every attempt either matches at least one character or fails on its first: linear in the tag.
_RE_ATTRIBUTE = re.compile(r"""([^\s/=][^\s/=]*)(?:\s*=\s*("[^"]*"?|'[^']*'?|\S*))?""")
_RAW_TEXT_END = {
    "script": re.compile(r"</script", re.IGNORECASE),
    "style": re.compile(r"</style", re.IGNORECASE),
}


class _NextOf:
    """The position of the next ``char`` at or after a position, for positions that only grow:
    one pass over the text in all (a plain ``find`` per ``<`` rescans to the end each time)."""

    def __init__(self, text: str, char: str) -> None:
        self._text, self._char, self._at = text, char, -2

    def __call__(self, pos: int) -> int:
        if self._at == -1 or self._at >= pos:
            return self._at
        self._at = self._text.find(self._char, pos)
        return self._at


def _scan_html(html: str, sink: HTMLParser) -> None:
    """Tokenize ``html`` into ``sink``'s handle_starttag/endtag/startendtag/data calls in one pass.

    A tag runs from ``<`` to the next ``>`` and holds no other ``<`` (so no two candidate tags
    overlap: O(len(html)) in all); a ``<`` that starts no tag is text, as with HTMLParser. Comments,
    declarations (``<!...>``, ``<![CDATA[...]]>``) and processing instructions are dropped; script
    and style content is raw text up to its end tag. The price of linearity: a ``>`` or ``<`` inside
    a quoted attribute value ends or voids the tag (never seen in the platforms' post HTML).
    """
    next_gt, next_lt = _NextOf(html, ">"), _NextOf(html, "<")
    comments_closed = True  # False once a "<!--" had no "-->" after it: none will
    raw_ends: dict[str, bool] = {}
    i, n = 0, len(html)
    while i < n:
        j = html.find("<", i)
        if j < 0:
            sink.handle_data(html_entities.unescape(html[i:]))
            return
        if j > i:
            sink.handle_data(html_entities.unescape(html[i:j]))
        i = j + 1
        if comments_closed and html.startswith("<!--", j):
            end = html.find("-->", j + 4)
            if end >= 0:
                i = end + 3
                continue
            comments_closed = False
        k, other = next_gt(j + 1), next_lt(j + 1)
        if k < 0 or 0 <= other < k:
            sink.handle_data("<")
            continue
        body = html[j + 1 : k]
        if body[:1] in ("!", "?"):  # declaration, CDATA, processing instruction, bogus comment
            i = k + 1
            continue
        closing = body.startswith("/")
        name = _RE_TAG_NAME.match(body, 1 if closing else 0)
        if name is None:
            if closing:  # "</>", "</ x>": HTMLParser drops these too
                i = k + 1
            else:  # "a < b > c": the "<" is text
                sink.handle_data("<")
            continue
        i = k + 1
        tag = name.group().lower()
        if closing:
            sink.handle_endtag(tag)
            continue
        rest = body[name.end() :]
        attrs: list[tuple[str, str | None]] = []
        last = 0
        for m in _RE_ATTRIBUTE.finditer(rest):
            value = m.group(2)
            if value is not None:
                if value[:1] in ("'", '"'):
                    value = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value[1:]
                value = html_entities.unescape(value)
            attrs.append((m.group(1).lower(), value))
            last = m.end()
        if rest[last:].rstrip().endswith("/"):
            sink.handle_startendtag(tag, attrs)
            continue
        sink.handle_starttag(tag, attrs)
        raw_end = _RAW_TEXT_END.get(tag)
        if raw_end is not None:
            found = raw_end.search(html, i) if raw_ends.get(tag, True) else None
            raw_ends[tag] = found is not None  # once absent, absent after every later opening too
            stop = found.start() if found else n
            if stop > i:
                sink.handle_data(html[i:stop])
            i = stop


# An original travels embedded in each of its reposts: short fragments are read once, not once per
# repost. Bounded in entries and in length, so a warm function's memory stays small.
HTML_CACHE_ENTRIES, HTML_CACHE_MAX_CHARS = 2048, 2000


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (see ``_TextExtractor``), entities decoded, whitespace tidied:
    runs of spaces become one, blank lines go."""
    return _html_to_text_cached(html) if len(html) <= HTML_CACHE_MAX_CHARS else _html_to_text(html)


def _html_to_text(html: str) -> str:
    if "<" in html or "&" in html:
        parser = _TextExtractor()
        _scan_html(html, parser)
        text = "".join(parser.parts)
    else:  # no markup, no entities: what the parser would hand back as it is (most reposts)
        text = html
    lines = (_RE_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_html_to_text_cached = lru_cache(maxsize=HTML_CACHE_ENTRIES)(_html_to_text)


def join_text(*parts: str | None) -> str:
    """Title and body as one text: the non-empty parts, one per line, without repeating a body that
    merely repeats the title."""
    out: list[str] = []
    for part in parts:
        part = (part or "").strip()
        if part and part not in out:
            out.append(part)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# Describing problems (for errors and skip reasons: short, never a whole body)
# --------------------------------------------------------------------------------------------------


def describe(error: Exception, root: str = "item") -> str:
    """One line on why an item or payload could not be read: pydantic's first complaint with its
    location, or the exception's message."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or root
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return f"{where}: {first['msg']}{more}"
    return str(error)


def json_excerpt(payload: Any, limit: int = 80) -> str:
    """A short excerpt of a decoded JSON payload for error messages."""
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(payload)
    return excerpt(text, limit)
