"""Small builders for domain objects, so tests state only what matters to them."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from crisiswatch.incidents.record import Incident, IncidentStats, LevelChange, TopPost
from crisiswatch.vocabulary import Author, Engagement, Level, Post, Score, Watch

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)  # 10:30 in China


def utcnow() -> datetime:
    """The real time, for tests of handlers that run on the system clock."""
    return datetime.now(UTC)


def watch(**overrides) -> Watch:
    values = {"id": "xianweifang", "name": "鲜味坊", "keywords": ["鲜味坊"], "brand_terms": ["鲜味坊"]}
    return Watch(**(values | overrides))


def post(post_id: str = "1", text: str = "鲜味坊的外卖吃出虫子，拉肚子一晚上", **overrides) -> Post:
    values = {
        "platform": "weibo",
        "post_id": post_id,
        "url": f"https://m.weibo.cn/detail/{post_id}",
        "author": Author(id="u1", name="吃货小王", followers=1200, verified_type=-1),
        "text": text,
        "created_at": NOW - timedelta(minutes=5),
        "engagement": Engagement(reposts=10, comments=3, likes=20),
        "fetched_at": NOW,
        "watch_id": "xianweifang",
    }
    return Post(**(values | overrides))


def score(negative: float = 0.9, risk: float = 0.8, **overrides) -> Score:
    values = {
        "negative": negative,
        "risk": risk,
        "categories": {"food_safety": ["虫子", "拉肚子"]},
        "reasons": [f"negative {negative:.2f}", "food safety: 虫子, 拉肚子"],
    }
    return Score(**(values | overrides))


def top_post(key: str = "weibo#1", risk: float = 0.8, categories: dict | None = None) -> TopPost:
    return TopPost(
        key=key,
        url="https://m.weibo.cn/detail/1",
        author="吃货小王",
        followers=1200,
        text="鲜味坊的外卖吃出虫子",
        created_at=NOW,
        risk=risk,
        negative=0.9,
        categories={"food_safety": ["虫子"]} if categories is None else categories,
    )


def incident(level: Level = Level.ORANGE, **overrides) -> Incident:
    values = {
        "incident_id": "xianweifang-20261121-0230",
        "watch_id": "xianweifang",
        "watch_name": "鲜味坊",
        "opened_at": NOW,
        "updated_at": NOW,
        "level": level,
        "level_reason": f"{level.value}: 30 negative of 40 posts",
        "history": [LevelChange(level=level, at=NOW, reason="test")],
        "stats": IncidentStats(
            window_hours=6, mentions=40, negatives=30, negative_share=0.75, high_risk=5, reach=2_000_000
        ),
        "top_posts": [top_post()],
    }
    return Incident(**(values | overrides))


def sqs_event(*bodies: str, receive_count: int = 1) -> dict:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:queue",
                "awsRegion": "ap-northeast-1",
            }
            for body in bodies
        ]
    }


def counted(posts, watch_id: str, now: datetime, hours: float = 6, story: str = ""):
    """What a repository's buckets hold for the watch (or story) over the last `hours`."""
    from crisiswatch.incidents.surprise import sums_since

    start = now - timedelta(hours=hours)
    return sums_since(posts.buckets(watch_id, start, now, story), [start])[0]
