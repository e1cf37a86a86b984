"""One fetch job: page the platform back to the job's cursor (minus an overlap), queue what matched,
and only then move the cursor.

A job whose fetch fails (retries exhausted, malformed page) queues nothing and leaves the cursor
where it was: the error propagates, the queue redelivers the job, and after the maximum receive
count it lands in the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from aws_lambda_powertools import Logger

from crisiswatch.constants import FETCH_MAX_PAGES, FETCH_OVERLAP_MINUTES, FETCH_TIME_MARGIN_SECONDS
from crisiswatch.ingest import FetchResult, fetch_posts
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.http import JsonClient
from crisiswatch.ports import Clock, CursorStore, Queue
from crisiswatch.vocabulary import FetchJob

logger = Logger(child=True)

# Given the seconds left before the function must stop, an HTTP client that respects them.
HttpClientFactory = Callable[[float], JsonClient]


@dataclass(frozen=True)
class Fetcher:
    cursors: CursorStore
    posts: Queue
    base_urls: Mapping[str, str]
    credentials: PlatformCredentials
    http: HttpClientFactory
    clock: Clock
    overlap: timedelta = timedelta(minutes=FETCH_OVERLAP_MINUTES)
    max_pages: int = FETCH_MAX_PAGES

    def run_message(self, body: str, remaining_seconds: float) -> FetchResult:
        """Run the job a queue message holds; a failure is logged with its reason and re-raised."""
        try:
            return self.run(FetchJob.model_validate_json(body), remaining_seconds)
        except Exception as e:  # the reason, for whoever reads the DLQ; messages never hold credentials
            logger.warning("fetch job failed", error=type(e).__name__, reason=str(e))
            raise

    def run(self, job: FetchJob, remaining_seconds: float) -> FetchResult:
        now = self.clock.now()
        cursor = self.cursors.get(job.watch.id, job.platform)
        since = cursor - self.overlap if cursor else job.since
        result = fetch_posts(
            job,
            self.base_urls[job.platform],
            self.http(remaining_seconds - FETCH_TIME_MARGIN_SECONDS),
            now,
            max_pages=self.max_pages,
            since=since,
            credentials=self.credentials.headers(job.platform),
        )
        # The last page reaches back past `since`: what is older was queued by an earlier run
        # (while it was in that run's window), or is later than the overlap promises to catch.
        fresh = [p for p in result.posts if since is None or p.created_at >= since]
        self.posts.send_all([post.model_dump_json() for post in fresh])
        if fresh:  # queued: safe to move on
            self.cursors.advance(job.watch.id, job.platform, max(p.created_at for p in fresh), now)
        logger.info(
            "queued",
            watch_id=job.watch.id,
            platform=job.platform,
            queued=len(fresh),
            stale=len(result.posts) - len(fresh),
        )
        return replace(result, posts=fresh)
