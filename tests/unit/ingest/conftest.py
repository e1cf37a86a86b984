"""Builders for Weibo mobile-search payloads (shapes as the real API sends them), as fixtures."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from crisiswatch.vocabulary import FetchJob, Watch

# 2026-11-21 00:05 in China: just after midnight, so "昨天"/"今天" are easy to get wrong.
NOW = datetime(2026, 11, 20, 16, 5, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def watch() -> Watch:
    return Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊", "XWF"], exclude=["鲜味坊小区"])


@pytest.fixture
def job(watch: Watch) -> FetchJob:
    return FetchJob(watch=watch, platform="weibo", scheduled_at=NOW)


@pytest.fixture
def make_mblog() -> Callable[..., dict[str, Any]]:
    ids = itertools.count(4_900_000_000_000_001)

    def make(
        text: str = "鲜味坊真好吃",
        *,
        id: str | None = None,
        created_at: str = "3分钟前",
        user: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        post_id = id or str(next(ids))
        return {
            "id": post_id,
            "mid": post_id,
            "text": text,
            "created_at": created_at,
            "reposts_count": 1,
            "comments_count": 2,
            "attitudes_count": 3,
            "isLongText": False,
            "source": "iPhone客户端",
            "user": user
            or {
                "id": 1234567890,
                "screen_name": "吃货小王",
                "followers_count": 321,
                "verified": False,
                "verified_type": -1,
            },
            **fields,
        }

    return make


@pytest.fixture
def make_page() -> Callable[..., dict[str, Any]]:
    def make(*mblogs: dict[str, Any], next_page: int | None = 2, grouped: bool = False) -> dict[str, Any]:
        cards: list[dict[str, Any]] = [{"card_type": 58, "desc": "以下为实时微博"}]
        for mblog in mblogs:
            card = {"card_type": 9, "mblog": mblog}
            cards.append({"card_type": 11, "card_group": [card]} if grouped else card)
        return {"ok": 1, "data": {"cardlistInfo": {"page": next_page, "total": 99}, "cards": cards}}

    return make
