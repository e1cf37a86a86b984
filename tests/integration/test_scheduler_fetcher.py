"""Schedule tick -> scheduler -> fetch-jobs queue -> fetcher -> platform simulator -> posts queue."""

from __future__ import annotations

import json

from crisiswatch.vocabulary import Post
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
