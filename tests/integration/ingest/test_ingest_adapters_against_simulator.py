"""Every platform format through fetch_posts against the running simulator, clean and under faults.

Formats: Bilibili search JSON, news as RSS and as Atom, Douyin and Xiaohongshu through the data
provider mappings (and Weibo again, for the faults that are new: duplicates across pages, refusals).
"No post lost, none twice": a run under a recoverable fault returns exactly what a clean run returns.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from crisiswatch.ingest.adapters import ADAPTERS, register_adapter
from crisiswatch.ingest.errors import FetchError, MalformedResponse
from crisiswatch.ingest.fetching import FetchResult, fetch_posts
from crisiswatch.ingest.http import HttpClient
from crisiswatch.ingest.provider import load_provider
from crisiswatch.vocabulary import FetchJob, Watch
from infra.local.simulator import TICK_SECONDS, PlatformSimulator, Scenario
from infra.local.simulator.channels import SimItem
from infra.local.simulator.formats import article_url

# format -> (platform, base URL given the simulator's)
FORMATS: dict[str, tuple[str, Callable[[str], str]]] = {
    "bilibili": ("bilibili", lambda base: base),
    "rss": ("news", lambda base: base),  # the default path: /rss/search?q={keyword}
    "atom": ("news", lambda base: base + "/atom/search?q={keyword}"),
    "douyin": ("douyin", lambda base: base),
    "xiaohongshu": ("xiaohongshu", lambda base: base),
}
PAGED = ("bilibili", "douyin", "xiaohongshu")
WITH_WEIBO = ["weibo", *FORMATS]


def platform_of(fmt: str) -> str:
    return "weibo" if fmt == "weibo" else FORMATS[fmt][0]


def base_of(fmt: str, simulator: PlatformSimulator) -> str:
    return simulator.base_url if fmt == "weibo" else FORMATS[fmt][1](simulator.base_url)


def expected_key(fmt: str, item: SimItem) -> str:
    """The post key the adapter derives for a simulator item."""
    if fmt == "rss":
        url = article_url(item)
        return "news#" + (url if item.has_guid else hashlib.sha256(url.encode()).hexdigest()[:32])
    if fmt == "atom":
        return "news#" + article_url(item)
    return item.key


def brand_keys(fmt: str, items: list[SimItem]) -> set[str]:
    return {expected_key(fmt, i) for i in items if i.about_brand}


def run(
    fmt: str,
    simulator: PlatformSimulator,
    watch: Watch,
    client: HttpClient,
    *,
    since: datetime | None = None,
    max_pages: int = 50,
) -> FetchResult:
    job = FetchJob(watch=watch, platform=platform_of(fmt), scheduled_at=datetime.now(UTC))
    return fetch_posts(
        job, base_of(fmt, simulator), client, datetime.now(UTC), max_pages=max_pages, since=since
    )


def keys_once(result: FetchResult) -> set[str]:
    counts = Counter(p.key for p in result.posts)
    assert not counts or max(counts.values()) == 1, "a post came back twice"
    return set(counts)


# ------------------------------------------------------------------------------------------------
# Clean runs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_whole_scenario_in_every_format(
    fmt: str, simulator: PlatformSimulator, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(8)
    platform = platform_of(fmt)
    items = simulator.all_items(platform)
    result = run(fmt, simulator, watch, make_client())
    assert keys_once(result) == brand_keys(fmt, items)
    assert all(p.platform == platform and p.watch_id == watch.id for p in result.posts)
    assert all(r.status == 200 for r in simulator.requests)
    by_key = {expected_key(fmt, i): i for i in items}
    for post in result.posts:
        item = by_key[post.key]
        assert post.text == item.text
        assert (
            abs(
                (
                    post.created_at - (datetime.now(UTC) - timedelta(seconds=item.age_seconds(7)))
                ).total_seconds()
            )
            < 5
        )
    if fmt in PAGED:
        assert result.pages_fetched > 2  # 10 a page in the simulator: the brand keyword pages
    else:
        assert result.pages_fetched == 2  # a feed per keyword


@pytest.mark.parametrize("fmt", FORMATS)
def test_tick_by_tick_with_since_and_late_posts_nothing_is_lost(
    fmt: str, scenario: Scenario, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    with PlatformSimulator(scenario, late_posts=True) as simulator:
        platform = platform_of(fmt)
        items = simulator.all_items(platform)
        late = [i for i in items if i.late_ticks]
        assert late, "the scenario has late posts on every platform"
        seen: Counter[str] = Counter()
        # Each run looks back one tick (the previous run) plus a margin as long as posts can be late.
        margin = timedelta(seconds=TICK_SECONDS * (1 + max(i.late_ticks for i in items)) + 60)
        for _ in range(len(scenario.ticks)):
            simulator.advance()
            result = run(fmt, simulator, watch, make_client(), since=datetime.now(UTC) - margin)
            seen.update(keys_once(result))
        assert set(seen) == brand_keys(fmt, items)
        assert {expected_key(fmt, i) for i in late if i.about_brand} <= set(seen)


def test_late_posts_sort_among_older_ones(scenario: Scenario) -> None:
    with PlatformSimulator(scenario, late_posts=True) as simulator:
        simulator.advance(len(scenario.ticks))
        current = simulator.current_tick
        visible = simulator.visible_items("douyin")
        late = [i for i in visible if i.late_ticks]
        assert late
        for item in late:
            on_time = [i.age_seconds(current) for i in visible if i.tick == item.tick and not i.late_ticks]
            # created two ticks before the others that became visible with it
            assert all(item.age_seconds(current) > age + TICK_SECONDS for age in on_time)


# ------------------------------------------------------------------------------------------------
# Faults, per format
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def busy(simulator: PlatformSimulator) -> Iterator[PlatformSimulator]:
    simulator.advance(6)  # several pages in every paged format
    yield simulator


@pytest.mark.parametrize("fmt", WITH_WEIBO)
@pytest.mark.parametrize("fault", ["429", "500", "503", "disconnect", "slow"])
def test_recoverable_faults_lose_nothing(
    fmt: str,
    fault: str,
    busy: PlatformSimulator,
    watch: Watch,
    make_client: Callable[..., HttpClient],
    sleeps: list[float],
) -> None:
    clean = keys_once(run(fmt, busy, watch, make_client()))
    busy.reset_requests()
    times = 1 if fault == "slow" else 2  # a slow answer costs a whole client timeout
    busy.inject(fault, times=times, seconds=1.0)
    started = time.monotonic()
    result = run(fmt, busy, watch, make_client(timeout=0.15))
    assert keys_once(result) == clean
    statuses = [r.status for r in busy.requests]
    if fault == "429":
        assert statuses[:3] == [429, 429, 200] and sleeps == [1.0, 1.0]  # Retry-After, not backoff
    elif fault == "slow":
        assert time.monotonic() - started < 0.9 and len(sleeps) == 1
    else:
        assert len(sleeps) == 2


@pytest.mark.parametrize("fmt", WITH_WEIBO)
def test_duplicates_across_pages_are_counted_not_kept(
    fmt: str, busy: PlatformSimulator, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    busy.advance(2)  # every paged format has more than one page
    clean = run(fmt, busy, watch, make_client())
    busy.inject("duplicates", times=20)
    repeated = run(fmt, busy, watch, make_client())
    assert keys_once(repeated) == keys_once(clean)
    if fmt in (*PAGED, "weibo"):
        assert repeated.duplicates > clean.duplicates


@pytest.mark.parametrize("fmt", WITH_WEIBO)
@pytest.mark.parametrize("fault", ["malformed", "wrong_shape"])
def test_a_malformed_page_fails_the_run_and_the_retry_gets_everything(
    fmt: str, fault: str, busy: PlatformSimulator, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    busy.inject(fault)
    with pytest.raises(MalformedResponse) as info:
        run(fmt, busy, watch, make_client())
    assert len(str(info.value)) < 400 and len(busy.requests) == 1  # not retried at the HTTP level
    again = run(fmt, busy, watch, make_client())  # the queue redelivers the job
    assert keys_once(again) == keys_once(run(fmt, busy, watch, make_client()))
    assert again.matched > 0


@pytest.mark.parametrize("fmt", ["weibo", *PAGED])
def test_a_refusal_in_the_platforms_own_words_is_a_fetch_error(
    fmt: str, busy: PlatformSimulator, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    busy.inject("refused")
    with pytest.raises(FetchError, match="refused|blocked") as info:
        run(fmt, busy, watch, make_client())
    assert not isinstance(info.value, MalformedResponse)


@pytest.mark.parametrize("fmt", FORMATS)
def test_retries_exhausted_is_a_fetch_error(
    fmt: str, busy: PlatformSimulator, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    busy.inject("503", times=10)
    with pytest.raises(FetchError, match="failed after 3 attempts: HTTP 503") as info:
        run(fmt, busy, watch, make_client(max_attempts=3))
    assert "?" not in str(info.value)  # no query string (keywords, keys) in messages


# ------------------------------------------------------------------------------------------------
# Provider credentials, raw bodies
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["douyin", "xiaohongshu"])
def test_provider_credentials(
    platform: str, scenario: Scenario, watch: Watch, make_client: Callable[..., HttpClient]
) -> None:
    with PlatformSimulator(scenario, api_key="k-123") as simulator:
        simulator.advance(4)
        with pytest.raises(FetchError, match="HTTP 401"):
            run(platform, simulator, watch, make_client())
        original = ADAPTERS[platform]
        register_adapter(load_provider(platform).with_credentials("k-123"))
        try:
            assert run(platform, simulator, watch, make_client()).matched > 0
        finally:
            register_adapter(original)


def test_get_bytes_retries_like_get_json(
    busy: PlatformSimulator, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    busy.inject("429")
    busy.inject("disconnect")
    body = make_client().get_bytes(busy.base_url + "/rss/search?q=%E9%B2%9C%E5%91%B3%E5%9D%8A")
    assert body.startswith(b"<?xml") and body.rstrip().endswith(b"</rss>")
    assert [r.status for r in busy.requests] == [429, 0, 200] and len(sleeps) == 2
    with pytest.raises(FetchError, match="HTTP 404"):
        make_client().get_bytes(busy.base_url + "/nope")
