"""Schedule tick -> scheduler -> fetch-jobs queue -> fetcher -> platform simulator -> posts queue."""

from __future__ import annotations

import json
import os

import boto3

from crisiswatch import ports
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.constants import Env
from crisiswatch.vocabulary import Post
from tests.builders import utcnow, watch
from tests.integration.helpers import dlq_url, queue_depth


def _drain_posts(aws) -> list[Post]:
    sqs = aws.client("sqs")
    url = aws.mapping_for("crisiswatch.handlers.scorer").queue_url
    posts = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            posts.append(Post.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return posts


def test_one_fetch_job_per_watch_and_platform(aws):
    assert aws.tick("weibo") == [{"platform": "weibo", "jobs": 1}]
    assert aws.tick("douyin") == []  # no schedule for a platform nobody configured
    fetch = aws.mapping_for("crisiswatch.handlers.fetcher")
    message = aws.client("sqs").receive_message(QueueUrl=fetch.queue_url)["Messages"][0]
    job = json.loads(message["Body"])
    assert (job["platform"], job["watch"]["id"]) == ("weibo", "xianweifang")
    assert job["since"] < job["scheduled_at"]


def test_fetched_posts_reach_the_posts_queue_matched_and_normalized(aws, simulator, scenario):
    if simulator.current_tick < 4:
        simulator.advance(4 - simulator.current_tick)
    aws.tick("weibo")
    assert aws.pump(aws.mapping_for("crisiswatch.handlers.fetcher")) == {"delivered": 1, "failed": 0}
    posts = _drain_posts(aws)
    visible_brand = {f"weibo#{p.id}" for p in simulator.visible_posts() if p.about_brand}
    assert {p.key for p in posts} == visible_brand  # every brand post, none of the noise
    assert len(posts) == len(visible_brand)  # once each, though two keywords found some
    media = max(posts, key=lambda p: p.author.followers)
    assert (media.author.verified_type, media.author.followers) == (3, 1_230_000)


def test_a_failing_platform_fails_the_job_until_the_dlq_holds_it(aws, simulator):
    fetch = aws.mapping_for("crisiswatch.handlers.fetcher")
    simulator.inject("malformed", times=100)
    try:
        aws.tick("weibo")
        for _ in range(6):
            aws.pump(fetch)
    finally:
        simulator.clear_faults()
    assert queue_depth(aws, fetch.queue_url) == 0
    assert queue_depth(aws, dlq_url(aws, fetch.queue_url)) == 1  # the job, kept for a redrive
    assert _drain_posts(aws) == []


def test_a_watch_whose_job_cannot_be_queued_fails_alone(aws, monkeypatch):
    """Issue 11: three oversized watches made every tick fail for every watch (BatchRequestTooLong).
    Each job now goes out on its own; the one that cannot is logged, counted and named."""
    catalogue = DynamoWatchCatalogue(boto3.client("dynamodb"), os.environ[Env.STATE_TABLE])
    catalogue.create(
        watch(id="big", keywords=[f"鲜味坊第{i:02d}家分店的外卖吃出虫子" for i in range(50)]), utcnow()
    )
    catalogue.create(watch(id="other"), utcnow())
    # The big watch's job (~3 KB) over a smaller SQS limit: the real adapter refuses it before sending.
    monkeypatch.setattr(ports, "SQS_MESSAGE_MAX_BYTES", 2_000)

    assert aws.tick("weibo") == [{"platform": "weibo", "jobs": 2, "failed": ["big"]}]

    fetch = aws.mapping_for("crisiswatch.handlers.fetcher")
    messages = aws.client("sqs").receive_message(QueueUrl=fetch.queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["watch"]["id"] for m in messages) == ["other", "xianweifang"]
