"""Fixtures for the scoring tests. Tests that read ../shared/data carry the ``shared_data`` marker
and are skipped when that folder is absent (it is never part of the repository)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiswatch.models import Author, Engagement, Post

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("CRISISWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SENTIMENT_DATA = SHARED_DATA / "sentiment"

needs_shared_data = pytest.mark.skipif(
    not SENTIMENT_DATA.is_dir(), reason=f"shared data not available at {SHARED_DATA}"
)


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
