"""Platform credentials: request headers from Secrets Manager, sent with every request, never logged."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from crisiswatch.constants import SERVICE, Env
from crisiswatch.handlers import fetcher
from crisiswatch.vocabulary import FetchJob, Watch
from infra.local.emulator.runtime import FakeLambdaContext
from infra.local.simulator import PlatformSimulator, Scenario
from tests.builders import sqs_event, utcnow

API_KEY = "dy-test-key-7f3a"


@pytest.fixture
def douyin(aws, monkeypatch):
    """A Douyin data provider that demands an API key, and the fetcher configured for it."""
    with PlatformSimulator(Scenario.generate(calm_ticks=1, burst_ticks=1), api_key=API_KEY) as simulator:
        simulator.advance(2)
        monkeypatch.setenv(Env.PLATFORM_BASE_URLS, json.dumps({"douyin": simulator.base_url}))
        monkeypatch.setenv(Env.PLATFORM_SECRETS, json.dumps({"douyin": "crisiswatch/douyin"}))
        fetcher.wiring.reset()
        parameters.clear_caches()
        yield simulator
    fetcher.wiring.reset()
    parameters.clear_caches()


def _fetch_douyin(aws) -> bool:
    """True if the fetch job succeeded; when the only record fails, Powertools fails the whole
    invocation (BatchProcessingError), and SQS retries the job."""
    watch = Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊"], platforms=["douyin"])
    job = FetchJob(watch=watch, platform="douyin", scheduled_at=utcnow())
    event = sqs_event(job.model_dump_json())
    try:
        response = fetcher.lambda_handler(
            event, FakeLambdaContext(aws.function("crisiswatch.handlers.fetcher"))
        )
    except BatchProcessingError:
        return False
    return response == {"batchItemFailures": []}


@pytest.fixture
def logs():
    """What the service logs, whatever stream its handler was bound to at import."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    service = logging.getLogger(SERVICE)
    handler.setFormatter(service.handlers[0].formatter)  # Powertools' structured JSON lines
    service.addHandler(handler)
    yield stream
    service.removeHandler(handler)


def _queued(aws) -> int:
    url = aws.mapping_for("crisiswatch.handlers.scorer").queue_url
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_the_provider_key_from_secrets_manager_is_sent(aws, douyin, logs):
    aws.client("secretsmanager").create_secret(
        Name="crisiswatch/douyin", SecretString=json.dumps({"X-Api-Key": API_KEY})
    )
    assert _fetch_douyin(aws) is True
    assert _queued(aws) > 0
    assert "fetch job done" in logs.getvalue() and API_KEY not in logs.getvalue()  # never in the logs


def test_a_wrong_key_fails_the_job_and_says_so_without_the_key(aws, douyin, logs):
    aws.client("secretsmanager").create_secret(
        Name="crisiswatch/douyin", SecretString=json.dumps({"X-Api-Key": "old"})
    )
    assert _fetch_douyin(aws) is False  # retried by SQS, then the DLQ
    assert _queued(aws) == 0
    assert "fetch job failed" in logs.getvalue() and "401" in logs.getvalue()
    assert '"old"' not in logs.getvalue() and API_KEY not in logs.getvalue()


def test_a_secret_that_is_not_headers_is_a_clear_failure(aws, douyin, logs):
    aws.client("secretsmanager").create_secret(Name="crisiswatch/douyin", SecretString='"just-a-string"')
    assert _fetch_douyin(aws) is False
    out = logs.getvalue()
    assert "must be a JSON object of header name -> value" in out and "just-a-string" not in out
