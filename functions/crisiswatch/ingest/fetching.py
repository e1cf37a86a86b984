"""Fetching a watch's posts: ``fetch_posts`` (search, page, de-duplicate, match) and ``Fetcher``.

``Fetcher`` runs one fetch job: page the platform back to the job's cursor (minus an overlap), queue what matched,
and only then move the cursor.

A job whose fetch fails (retries exhausted, malformed page) queues nothing and leaves the cursor
where it was: the error propagates, the queue redelivers the job, and after the maximum receive
count it lands in the dead-letter queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from crisiswatch.constants import (
    FETCH_JOB_SECONDS,
    FETCH_MAX_PAGES,
    FETCH_OVERLAP_MINUTES,
    FETCH_TIME_MARGIN_SECONDS,
    SERVICE,
)
from crisiswatch.ingest.adapters import adapter_for
from crisiswatch.ingest.bounds import PAGE_ITEMS_DROPPED, bounded_counts, over_limit_reason
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.cursor import FetchCursor
from crisiswatch.ingest.http import JsonClient
from crisiswatch.ingest.platform import fetch_payload
from crisiswatch.ports import Clock, CursorStore, Queue
from crisiswatch.rules import fold, rule_for
from crisiswatch.vocabulary import FetchJob, Post

logger = Logger(service=SERVICE, child=True)

# Metric names of a run: posts queued, and items the adapter could not read (each with its reason).
POSTS_FETCHED, ITEMS_SKIPPED, JOBS_DEFERRED = "PostsFetched", "ItemsSkipped", "FetchJobsDeferred"


@dataclass(frozen=True)
class FetchResult:
    """What one fetch run produced.

    ``posts``: unique posts that match the watch, in the order first seen (newest first per keyword).
    ``pages_fetched``: search pages requested successfully. ``matched``: ``len(posts)``.
    ``dropped``: unique posts the search returned that the watch does not match (or excludes).
    ``duplicates``: posts seen again in this run (other keyword, other page, embedded original).
    ``skipped``: one reason per item that could not be read. ``terms``: post key -> terms that hit.
    ``items_over_limit``: page items past PLATFORM_ITEMS_PER_PAGE_MAX, dropped unread.
    ``bounded``: posts whose text was cut or a count clamped (crisiswatch.ingest.bounds), by metric.
    ``deferred``: keywords not searched for lack of time (the fetcher queues a continuation).
    """

    posts: list[Post]
    pages_fetched: int
    matched: int
    dropped: int
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)
    terms: dict[str, list[str]] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)  # keywords left for a continuation job
    items_over_limit: int = 0
    bounded: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """The run's metrics, by name (the fetcher publishes them)."""
        counts = {
            POSTS_FETCHED: len(self.posts),
            ITEMS_SKIPPED: len(self.skipped),
            PAGE_ITEMS_DROPPED: self.items_over_limit,
            JOBS_DEFERRED: 1 if self.deferred else 0,
            **self.bounded,
        }
        # The fetched count always (a zero is news: the search found nothing); the others when
        # something happened, since every name in a job's metrics is logged (EMF) on every job.
        return {name: n for name, n in counts.items() if n or name == POSTS_FETCHED}


def fetch_posts(
    job: FetchJob,
    base_url: str,
    client: JsonClient,
    now: datetime,
    max_pages: int = 5,
    *,
    since: datetime | None = None,
    fetch_cursor: FetchCursor | None = None,
    credentials: Mapping[str, str] | None = None,
    deadline: float | None = None,
    timer: Callable[[], float] = time.monotonic,
) -> FetchResult:
    """Search ``job.platform`` for each of the watch's keywords and return the matching posts.

    For each keyword, pages are fetched until the platform has no more or ``max_pages`` were read,
    or (with ``since``, e.g. the previous run's time minus a margin) once a page reaches posts
    older than ``since``: results are newest first, so older pages were seen by earlier runs.
    With the watch's ``fetch_cursor``, paging also stops at the first page that brings nothing the
    cursor would queue (``FetchCursor.brings_nothing``). Past ``deadline`` (``timer()`` seconds),
    the keywords not yet searched are left in ``FetchResult.deferred`` (the first is always searched).
    A post matches the watch's rule for the platform (``ingest.rules.rule_for``); kept posts carry
    the terms that hit in ``matched_terms``. A repost whose own text does not match is kept when
    the original it reposts matched in this run (and its own text has no word the rule excludes):
    a crisis spreads through such reposts.

    ``credentials`` are HTTP headers sent with every request (a cookie, a provider's API-key header),
    from the platform's secret; they are never logged.

    Raises ``UnsupportedPlatform`` for a platform without adapter, ``FetchError`` /
    ``MalformedResponse`` when a page cannot be fetched or read (nothing is returned then: the job
    is retried as a whole, and downstream writes are idempotent on the post key).
    """
    if max_pages < 1:
        raise ValueError("max_pages must be at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    adapter = adapter_for(job.platform)
    watch = job.watch
    rule = rule_for(watch, job.platform)

    kept: list[Post] = []
    terms_by_key: dict[str, list[str] | None] = {}  # every post seen; None = dropped
    skipped: list[str] = []
    pages = duplicates = over_limit = 0
    covers = search_terms(job.keywords if job.keywords is not None else watch.keywords)
    keywords = list(covers)  # grows when a broad keyword's search is cut off (below)
    deferred: list[str] = []
    for n, keyword in enumerate(keywords):
        if n and deadline is not None and timer() >= deadline:
            deferred = keywords[n:]
            break
        headers = adapter.headers(base_url, keyword) | dict(credentials or {})
        cursor: str | None = None  # cursor-paged platforms: what the previous page said to ask next
        for page_number in range(adapter.first_page, adapter.first_page + max_pages):
            payload = fetch_payload(
                adapter, client, base_url, keyword, page_number, cursor=cursor, headers=headers
            )
            page = adapter.parse_search_page(payload, watch, now, now)
            pages += 1
            skipped.extend(f"{keyword} p{page_number} {reason}" for reason in page.skipped)
            if page.items_over_limit:
                over_limit += page.items_over_limit
                logger.warning(
                    "page items dropped",
                    reason=over_limit_reason(page.items_over_limit),
                    watch_id=watch.id,
                    platform=job.platform,
                    keyword=keyword,
                    page=page_number,
                    count=page.items_over_limit,
                )
            kept_before = len(kept)
            for post in page.posts:
                if post.key in terms_by_key:
                    duplicates += 1
                    continue
                found = rule.match(post.text)
                terms = found.terms if found.matched else None
                original = terms_by_key.get(post.repost_of) if post.repost_of else None
                if terms is None and original is not None and not rule.excludes(post.text):
                    terms = list(original)
                terms_by_key[post.key] = terms
                if terms is not None:
                    kept.append(post.model_copy(update={"matched_terms": terms}))
            if not page.has_more:
                break
            # The last post of a page is always a direct search hit (embedded originals come
            # before their repost), so its time is where the real-time results have reached.
            if since is not None and page.posts and page.posts[-1].created_at < since:
                break
            if (
                fetch_cursor is not None
                and page.posts
                and fetch_cursor.brings_nothing(kept[kept_before:], page.posts[-1].created_at, since)
            ):
                break
            cursor = page.next_cursor
        else:  # cut off at max_pages before reaching `since`: the narrower keywords in their own right
            keywords += [k for k in covers.get(keyword, ()) if k not in keywords]

    result = FetchResult(
        posts=kept,
        pages_fetched=pages,
        matched=len(kept),
        dropped=len(terms_by_key) - len(kept),
        duplicates=duplicates,
        skipped=skipped,
        terms={post.key: post.matched_terms for post in kept},
        items_over_limit=over_limit,
        deferred=deferred,
    )
    if skipped:
        logger.warning(
            "items skipped",
            watch_id=watch.id,
            platform=job.platform,
            count=len(skipped),
            reasons=skipped[:10],
        )
    logger.debug(  # the fetcher's one line per job ("fetch job done") carries these figures
        "fetched",
        watch_id=watch.id,
        platform=job.platform,
        pages=pages,
        matched=result.matched,
        dropped=result.dropped,
        duplicates=duplicates,
        skipped=len(skipped),
        deferred=len(deferred),
    )
    return result


def search_terms(keywords: Sequence[str]) -> dict[str, list[str]]:
    """The keywords worth a search, in the watch's order, each with the keywords its search covers.

    Blank ones and repeats are left out, and so is any that contains another (compared folded:
    ``鲜味坊外卖`` when ``鲜味坊`` is searched): the platforms' keyword search finds a term inside
    longer text, so the shorter term's results hold the longer one's. Only while the shorter
    term's search reaches the window: cut off at ``max_pages`` (a burst), the keywords it covers
    are searched too (``fetch_posts``).
    """
    folded = {k: fold(k) for k in keywords if k.strip()}
    kept: dict[str, list[str]] = {}
    narrower: list[str] = []
    for keyword, form in folded.items():
        if any(other != form and other in form for other in folded.values()):
            narrower.append(keyword)  # a shorter keyword's search finds it
        elif all(folded[k] != form for k in kept):
            kept[keyword] = []
    for keyword in narrower:
        broad = next(k for k in kept if folded[k] in folded[keyword])
        kept[broad].append(keyword)
    return kept


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
    # Per platform, where a continuation job goes (the platform's fetch-jobs queue).
    fetch_queues: Mapping[str, Queue] = field(default_factory=dict)
    job_seconds: float = FETCH_JOB_SECONDS
    timer: Callable[[], float] = time.monotonic

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
        since = job.since if job.keywords is not None else cursor.since(self.overlap, default=job.since)
        budget = min(self.job_seconds, remaining_seconds - 2 * FETCH_TIME_MARGIN_SECONDS)
        result = fetch_posts(
            job,
            self.base_urls[job.platform],
            self.http(remaining_seconds - FETCH_TIME_MARGIN_SECONDS),
            now,
            max_pages=self.max_pages,
            since=since,
            # A continuation pages to its `since`: the cursor moved on with its parent's other
            # keywords, so "nothing new" on a page says nothing about this keyword's older posts.
            fetch_cursor=cursor if job.keywords is None else None,
            credentials=self.credentials.headers(job.platform),
            deadline=self.timer() + budget,
            timer=self.timer,
        )
        # Not queued: what is older than the window (an earlier run queued it while it was in that
        # run's window), and what the cursor knows and has not grown enough to refresh.
        queue = cursor.to_queue(result.posts, since)
        bounded = bounded_counts(queue, watch_id=job.watch.id, platform=job.platform)
        self.posts.send_all([post.model_dump_json() for post in queue])
        if result.deferred:  # before the cursor moves on: the rest is searched back to this `since`
            rest = job.model_copy(update={"since": since, "keywords": result.deferred})
            self.fetch_queues[job.platform].send_all([rest.model_dump_json()])
        if queue:  # queued: safe to move on
            self._save(job, cursor.after(queue, self.overlap), now)
        logger.info(  # one line per job: at 1,000 watches x 5 platforms, 56 million a month
            "fetch job done",
            watch_id=job.watch.id,
            platform=job.platform,
            pages=result.pages_fetched,
            matched=result.matched,
            dropped=result.dropped,
            duplicates=result.duplicates,
            skipped=len(result.skipped),
            queued=len(queue),
            known=len(result.posts) - len(queue),
            deferred=len(result.deferred),
        )
        return replace(result, posts=queue, matched=len(queue), bounded=bounded)

    def _save(self, job: FetchJob, cursor: FetchCursor, now: datetime) -> None:
        """Save over a run that saved meanwhile by merging with it, once. Should a third run have
        saved by then, the next run queues this run's posts again: duplicates the scorer stores
        once, never a loss."""
        watch_id, platform = job.watch.id, job.platform
        if self.cursors.save(watch_id, platform, cursor, now):
            return
        merged = cursor.merged(self.cursors.get(watch_id, platform, fresh=True), self.overlap)
        if not self.cursors.save(watch_id, platform, merged, now):
            logger.warning(
                "fetch cursor not saved: other runs kept moving it", watch_id=watch_id, platform=platform
            )
