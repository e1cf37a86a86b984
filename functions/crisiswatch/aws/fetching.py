"""The fetcher's service on the AWS adapters: cursors in DynamoDB, the posts and fetch-jobs queues,
platform credentials from Secrets Manager."""

from __future__ import annotations

import boto3

from crisiswatch.aws.cursors import DynamoCursorStore
from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.secrets import SecretsManagerReader
from crisiswatch.constants import CREDENTIALS_MAX_AGE_SECONDS
from crisiswatch.environment import FetcherSettings
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.fetching import Fetcher
from crisiswatch.ingest.http import HttpClient
from crisiswatch.ports import Clock


def fetcher(settings: FetcherSettings, clock: Clock) -> Fetcher:
    timeout = settings.http_timeout_seconds
    sqs = boto3.client("sqs")
    return Fetcher(
        cursors=DynamoCursorStore(boto3.client("dynamodb"), settings.state_table),
        posts=SqsQueue(sqs, settings.posts_queue_url),
        fetch_queues={platform: SqsQueue(sqs, url) for platform, url in settings.fetch_queue_urls.items()},
        base_urls=settings.base_urls,
        credentials=PlatformCredentials(
            SecretsManagerReader(CREDENTIALS_MAX_AGE_SECONDS), settings.platform_secrets
        ),
        http=lambda seconds_left: HttpClient(timeout=timeout, deadline=max(timeout, seconds_left)),
        clock=clock,
    )
