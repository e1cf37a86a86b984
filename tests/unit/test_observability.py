"""The service's log lines: the request id and cold start, not what the log group already names."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from crisiswatch.observability import REDUNDANT_CONTEXT_KEYS, Formatter


@dataclass
class Context:
    function_name: str = "crisiswatch-fetcher"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-1:123456789012:function:crisiswatch-fetcher"
    aws_request_id: str = "52a8ab0d-64f5-44b4-9c9b-da5a200e1059"


def test_a_line_keeps_the_request_id_and_drops_what_the_log_group_names():
    stream = io.StringIO()
    logger = Logger(
        service="test-observability", logger_formatter=Formatter(), logger_handler=None, stream=stream
    )

    @logger.inject_lambda_context
    def handler(event, context):
        logger.info("fetch job done", watch_id="w", queued=3)

    handler({}, Context())
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["function_request_id"] == Context.aws_request_id and "cold_start" in line
    assert (line["message"], line["watch_id"], line["queued"]) == ("fetch job done", "w", 3)
    assert not set(REDUNDANT_CONTEXT_KEYS) & set(line)


def test_counts_are_published_when_something_happened_and_the_headline_one_always():
    from crisiswatch.observability import add_counts, metrics

    metrics.clear_metrics()
    try:
        add_counts({"PostsScored": 0, "DuplicatePosts": 3, "WatchAssessmentsFailed": 0}, always="PostsScored")
        assert set(metrics.metric_set) == {"PostsScored", "DuplicatePosts"}
    finally:
        metrics.clear_metrics()
