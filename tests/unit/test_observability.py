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


def test_a_line_keeps_the_request_id_and_drops_what_the_log_group_names(monkeypatch):
    # Other tests' runtimes may have left a stricter level in the environment.
    monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "INFO")
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


def test_the_service_logger_uses_that_formatter():
    from crisiswatch import observability

    assert isinstance(observability.logger.registered_formatter, Formatter)


def test_counts_are_published_when_something_happened_and_the_headline_one_always():
    from crisiswatch.observability import add_counts, metrics

    metrics.clear_metrics()
    try:
        add_counts({"PostsScored": 0, "DuplicatePosts": 3, "WatchAssessmentsFailed": 0}, always="PostsScored")
        assert set(metrics.metric_set) == {"PostsScored", "DuplicatePosts"}
    finally:
        metrics.clear_metrics()


def test_a_stricter_log_level_holds_under_lambda_s_info_filter_for_every_logger_of_the_service():
    """Lambda's filter (AWS_LAMBDA_LOG_LEVEL) wins over LOG_LEVEL in Powertools; the template keeps
    it at INFO so metrics lines pass, and LOG_LEVEL=WARNING still silences the service's INFO lines,
    its child loggers' too. In a process of its own: the service's logger is configured at import."""
    import os
    import subprocess
    import sys

    code = (
        "from crisiswatch.observability import logger\n"
        "from crisiswatch.incidents import intake\n"
        "logger.info('parent info'); intake.logger.info('child info')\n"
        "logger.warning('parent warning'); intake.logger.warning('child warning')\n"
    )
    env = os.environ | {
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "crisiswatch",  # as deployed: child loggers hang under the service's
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines] == ["parent warning", "child warning"], run.stderr[-2000:]
    assert "T" in lines[0]["timestamp"]  # RFC 3339, which Lambda's JSON format reads
