"""Fixtures for the scoring tests (the sentences in these tests are our own)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crisiswatch.vocabulary import Author, Engagement, Post


def make_post(
    text: str,
    followers: int = 0,
    verified_type: int = -1,
    reposts: int = 0,
    comments: int = 0,
    likes: int = 0,
) -> Post:
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    return Post(
        platform="weibo",
        post_id="1",
        author=Author(id="u1", name="测试用户", followers=followers, verified_type=verified_type),
        text=text,
        created_at=now,
        engagement=Engagement(reposts=reposts, comments=comments, likes=likes),
        fetched_at=now,
        watch_id="xianweifang",
    )


@pytest.fixture(scope="session")
def scorer():
    from crisiswatch.scoring import Scorer

    return Scorer(brand_terms=["鲜味坊"])


@pytest.fixture
def post():
    """Build a Post: post("text", followers=..., verified_type=..., reposts=...)."""
    return make_post
