"""Data-provider adapters: JSON over HTTP, read through a declarative field mapping (JMESPath).

Douyin's and Xiaohongshu's own web APIs need signed requests (a_bogus / x-s signatures computed by
obfuscated JavaScript), so teams buy their search results from data providers that sign for them.
Each provider has its own JSON; a mapping file says where in it each Post field is, so a new
provider is a new JSON file, not new code. We ship ``ingest/providers/douyin.json`` and
``xiaohongshu.json``::

    adapter = load_provider("douyin", headers={"X-Api-Key": key})   # or .with_credentials(key)
    register_adapter(adapter)

A mapping (validated when it is loaded; a broken one raises ``ProviderMappingError`` naming the
field)::

    {"platform": "douyin",
     "request":  {"path": "/douyin/v1/search/video?keyword={keyword}&cursor={cursor}&count={page_size}",
                  "paging": "cursor", "first_cursor": "0", "page_size": 20,
                  "headers": {...}, "auth_header": "X-Api-Key"},
     "response": {"status": "code", "ok_status": [0], "message": "message",
                  "items": "data.aweme_list", "has_more": "data.has_more", "next_cursor": "data.cursor"},
     "post":     {"post_id": "aweme_id", "text": "desc", "created_at": "create_time",
                  "created_at_format": "epoch_s", "url": "share_url",
                  "author": {"id": "author.uid", "name": "author.nickname", "followers": "author.follower_count"},
                  "engagement": {"likes": "statistics.digg_count", ...}}}

Path placeholders: ``{keyword}`` (url-encoded), ``{page}``, ``{cursor}``, ``{page_size}``. Response
expressions are evaluated on the whole payload, post expressions on one item. ``text`` may yield a
string or a list of strings (title and body, joined by a newline). Counts accept display strings
("1.2万"). See docs/ingest.md.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from crisiswatch.ingest.bounds import first_items
from crisiswatch.ingest.errors import FetchError, MalformedResponse, excerpt
from crisiswatch.ingest.fields import (
    describe,
    from_epoch,
    from_iso,
    id_string,
    join_text,
    json_excerpt,
    parse_count,
)
from crisiswatch.ingest.platform import SearchPage
from crisiswatch.vocabulary import Author, Engagement, Post, Watch

SHIPPED_PROVIDERS = ("douyin", "xiaohongshu")
# crisiswatch/ingest/providers/: package data of crisiswatch.ingest, it ships with the package.
PROVIDERS_DIR = Path(__file__).resolve().parent / "providers"
PLACEHOLDERS = frozenset({"keyword", "page", "cursor", "page_size"})


class ProviderMappingError(ValueError):
    """A mapping file is not usable; the message names the file and the field."""


# --------------------------------------------------------------------------------------------------
# The mapping, validated at load
# --------------------------------------------------------------------------------------------------


def _jmespath(expression: str) -> str:
    if not expression.strip():
        raise ValueError("empty JMESPath expression")
    try:
        jmespath.compile(expression)
    except JMESPathError as e:
        raise ValueError(f"invalid JMESPath expression {expression!r}: {' '.join(str(e).split())}") from None
    return expression


Expr = Annotated[str, AfterValidator(_jmespath)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestSpec(_Spec):
    path: str = Field(description="path and query after the base URL, with placeholders")
    paging: Literal["page", "cursor"]
    first_page: int = 1
    first_cursor: str = "0"
    page_size: int = Field(default=20, ge=1, le=100)
    headers: dict[str, str] = Field(default_factory=dict)
    auth_header: str | None = Field(default=None, description="where the caller's credential goes")

    @model_validator(mode="after")
    def _placeholders(self) -> RequestSpec:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(self.path) if name is not None}
        except ValueError as e:
            raise ValueError(f"path: bad template {self.path!r}: {e}") from None
        if unknown := names - PLACEHOLDERS:
            raise ValueError(f"path: unknown placeholder(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
        if "keyword" not in names:
            raise ValueError("path: needs {keyword}")
        if self.paging == "page" and "page" not in names:
            raise ValueError("path: paging 'page' needs {page}")
        if self.paging == "cursor" and "cursor" not in names:
            raise ValueError("path: paging 'cursor' needs {cursor}")
        if not self.path.startswith("/"):
            raise ValueError("path: must start with '/'")
        return self


class ResponseSpec(_Spec):
    status: Expr = Field(description="the provider's success flag or code")
    ok_status: list[Any] = Field(min_length=1, description="values of status that mean success")
    message: Expr | None = None
    items: Expr
    has_more: Expr
    next_cursor: Expr | None = None


class AuthorSpec(_Spec):
    id: Expr
    name: Expr | None = None
    followers: Expr | None = None
    verified: Expr | None = Field(default=None, description="truthy: verified (verified_type 0)")
    verified_type: Expr | None = Field(default=None, description="an int in Weibo's scale, if given")


class EngagementSpec(_Spec):
    reposts: Expr | None = None
    comments: Expr | None = None
    likes: Expr | None = None
    views: Expr | None = None


class PostSpec(_Spec):
    post_id: Expr
    text: Expr
    created_at: Expr
    created_at_format: Literal["epoch_s", "epoch_ms", "iso8601"]
    naive_utc_offset_hours: float = Field(
        default=8, ge=-14, le=14, description="for ISO times without offset"
    )
    url: Expr | None = None
    url_template: str | None = Field(default=None, description="used when url is absent; {post_id}")
    author: AuthorSpec
    engagement: EngagementSpec = EngagementSpec()

    @model_validator(mode="after")
    def _url_template(self) -> PostSpec:
        if self.url_template is not None:
            names = {n for _, n, _, _ in string.Formatter().parse(self.url_template) if n is not None}
            if names - {"post_id"}:
                raise ValueError(
                    f"url_template: only {{post_id}} is known, not {sorted(names - {'post_id'})}"
                )
        return self


class ProviderMapping(_Spec):
    platform: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    description: str = ""
    request: RequestSpec
    response: ResponseSpec
    post: PostSpec

    @model_validator(mode="after")
    def _cursor(self) -> ProviderMapping:
        if self.request.paging == "cursor" and self.response.next_cursor is None:
            raise ValueError("response.next_cursor: needed with request.paging 'cursor'")
        return self


def parse_mapping(raw: Any, source: str = "<mapping>") -> ProviderMapping:
    """Validate a mapping (decoded JSON). Raises ``ProviderMappingError`` naming every bad field."""
    try:
        return ProviderMapping.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'mapping'}: {err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise ProviderMappingError(f"{source}: {problems}") from None


def load_mapping(name_or_path: str | Path) -> ProviderMapping:
    """A shipped mapping by name ("douyin", "xiaohongshu") or a mapping file by path."""
    if isinstance(name_or_path, Path) or name_or_path.endswith(".json"):
        path = Path(name_or_path)
        source = path.name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ProviderMappingError(f"{source}: cannot read: {e.strerror or e}") from None
    else:
        source = f"{name_or_path}.json"
        path = PROVIDERS_DIR / source
        if not path.is_file():
            raise ProviderMappingError(
                f"no shipped provider mapping {name_or_path!r}; shipped: {', '.join(SHIPPED_PROVIDERS)}"
            )
        text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ProviderMappingError(f"{source}: not JSON: {e}") from None
    return parse_mapping(raw, source)


# --------------------------------------------------------------------------------------------------
# Reading a payload through the mapping
# --------------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no")
    return bool(value)


def _same(a: Any, b: Any) -> bool:
    # JSON equality without Python's True == 1.
    return type(a) is type(b) and a == b


_EXPR_FIELDS: dict[type, tuple[str, ...]] = {
    ResponseSpec: ("status", "message", "items", "has_more", "next_cursor"),
    AuthorSpec: ("id", "name", "followers", "verified", "verified_type"),
    EngagementSpec: ("reposts", "comments", "likes", "views"),
    PostSpec: ("post_id", "text", "created_at", "url"),
}


class _Compiled:
    """The mapping's expressions, compiled once, by dotted field name ("post.author.id")."""

    def __init__(self, mapping: ProviderMapping) -> None:
        self.exprs: dict[str, ParsedResult] = {}
        self._add("response.", mapping.response)
        self._add("post.", mapping.post)

    def _add(self, prefix: str, spec: BaseModel) -> None:
        for name, value in spec:
            if isinstance(value, BaseModel):
                self._add(f"{prefix}{name}.", value)
            elif name in _EXPR_FIELDS.get(type(spec), ()) and isinstance(value, str):
                self.exprs[f"{prefix}{name}"] = jmespath.compile(value)

    def get(self, field: str, data: Any) -> Any:
        expression = self.exprs.get(field)
        return None if expression is None else expression.search(data)


class ProviderAdapter:
    """A platform served by a data provider, read through a ``ProviderMapping``."""

    def __init__(self, mapping: ProviderMapping, *, headers: Mapping[str, str] | None = None) -> None:
        self.mapping = mapping
        self.platform = mapping.platform
        self.first_page = mapping.request.first_page
        self.extra_headers = dict(headers or {})
        self._compiled = _Compiled(mapping)

    def with_credentials(self, value: str) -> ProviderAdapter:
        """The same adapter sending ``value`` in the mapping's ``auth_header``."""
        header = self.mapping.request.auth_header
        if header is None:
            raise ProviderMappingError(f"{self.platform}: the mapping names no request.auth_header")
        return ProviderAdapter(self.mapping, headers={**self.extra_headers, header: value})

    # -- request --------------------------------------------------------------------------------
    def search_url(self, base_url: str, keyword: str, page: int, cursor: str | None = None) -> str:
        request = self.mapping.request
        path = request.path.format(
            keyword=quote(keyword, safe=""),
            page=page,
            cursor=quote(cursor if cursor is not None else request.first_cursor, safe=""),
            page_size=request.page_size,
        )
        return f"{base_url.rstrip('/')}{path}"

    def headers(self, base_url: str, keyword: str) -> dict[str, str]:
        return {**self.mapping.request.headers, **self.extra_headers}

    # -- response -------------------------------------------------------------------------------
    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage:
        """One page of the provider's search as posts of ``watch``, in page order.

        ``MalformedResponse``: the status or the items are missing or of the wrong type.
        ``FetchError``: the provider answered with a status that is not success.
        """
        c = self._compiled
        name = self.platform
        status = c.get("response.status", payload)
        if status is None:
            raise MalformedResponse(
                f"{name} provider: no status at {self.mapping.response.status!r}; "
                f"payload starts with {json_excerpt(payload)!r}"
            )
        if not any(_same(status, ok) for ok in self.mapping.response.ok_status):
            message = c.get("response.message", payload)
            raise FetchError(
                f"{name} provider refused: status={excerpt(json.dumps(status, default=str), 20)} "
                f"message={excerpt(str(message or ''), 60)!r}"
            )
        items = c.get("response.items", payload)
        if items is None:
            items = []  # providers send null instead of [] past the last page
        if not isinstance(items, list):
            raise MalformedResponse(
                f"{name} provider: items at {self.mapping.response.items!r} is not a list; "
                f"payload starts with {json_excerpt(payload)!r}"
            )
        posts: list[Post] = []
        skipped: list[str] = []
        items, over = first_items(items)
        for i, item in enumerate(items):
            try:
                posts.append(self.to_post(item, watch, fetched_at, now))
            except (ValidationError, ValueError) as e:
                ident = id_string(c.get("post.post_id", item)) if isinstance(item, dict) else None
                label = f"item {i}" + (f" ({ident})" if isinstance(ident, str) and ident else "")
                skipped.append(f"{label}: {describe(e, 'item')}")
        has_more = bool(items) and _truthy(c.get("response.has_more", payload))
        next_cursor = None
        if self.mapping.request.paging == "cursor" and has_more:
            cursor = c.get("response.next_cursor", payload)
            if cursor is None or cursor == "":
                has_more = False  # nothing to ask for next: stop rather than loop on page one
                skipped.append(f"has_more without {self.mapping.response.next_cursor}: paging stopped")
            else:
                next_cursor = str(cursor)
        return SearchPage(
            posts=posts, has_more=has_more, skipped=skipped, next_cursor=next_cursor, items_over_limit=over
        )

    def to_post(self, item: Any, watch: Watch, fetched_at: datetime, now: datetime) -> Post:
        """One item as a Post. Raises ValueError naming the field that could not be read."""
        if not isinstance(item, dict):
            raise ValueError("not an object")
        c = self._compiled
        spec = self.mapping.post

        def field(name: str, read: Any) -> Any:
            try:
                return read(c.get(f"post.{name}", item))
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None

        post_id = field("post_id", _post_id)
        url = field("url", lambda v: v.strip() if isinstance(v, str) else "")
        if not url and spec.url_template:
            url = spec.url_template.format(post_id=post_id)
        verified_type = field("author.verified_type", _optional_int)
        if verified_type is None:
            verified_type = 0 if _truthy(c.get("post.author.verified", item)) else -1
        return Post(
            platform=self.platform,
            post_id=post_id,
            url=url,
            author=Author(
                id=field("author.id", _required_id),
                name=field("author.name", lambda v: "" if v is None else str(v)),
                followers=field("author.followers", parse_count),
                verified_type=verified_type,
            ),
            text=field("text", _text),
            created_at=min(field("created_at", self._time), now),
            engagement=Engagement(
                reposts=field("engagement.reposts", parse_count),
                comments=field("engagement.comments", parse_count),
                likes=field("engagement.likes", parse_count),
                views=field("engagement.views", parse_count),
            ),
            fetched_at=fetched_at,
            watch_id=watch.id,
        )

    def _time(self, value: Any) -> datetime:
        spec = self.mapping.post
        if spec.created_at_format == "epoch_s":
            return from_epoch(value)
        if spec.created_at_format == "epoch_ms":
            return from_epoch(value, milliseconds=True)
        return from_iso(value, naive_tz=timezone(timedelta(hours=spec.naive_utc_offset_hours)))


def _required_id(value: Any) -> str:
    value = id_string(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing or not an id: {excerpt(repr(value), 30)}")
    return value


def _post_id(value: Any) -> str:
    value = _required_id(value)
    if len(value) > 64:
        raise ValueError(f"longer than 64 characters: {excerpt(value, 30)!r}")
    return value


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an int: {excerpt(repr(value), 30)}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return join_text(*value)
    if value is None:
        return ""
    raise ValueError(f"not a string or a list of strings: {excerpt(repr(value), 30)}")


def load_provider(name_or_path: str | Path, *, headers: Mapping[str, str] | None = None) -> ProviderAdapter:
    """The adapter for a shipped provider mapping ("douyin", "xiaohongshu") or a mapping file."""
    return ProviderAdapter(load_mapping(name_or_path), headers=headers)
