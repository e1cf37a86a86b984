"""Fetching from the running simulator: paging, de-duplication, the whole scenario."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.ingest.http import HttpClient
from crisiswatch.vocabulary import FetchJob, Watch
from infra.local.simulator import PlatformSimulator, Scenario


def keys(posts: list) -> set[str]:
    return {f"weibo#{p.id}" for p in posts}


def test_pages_through_the_results(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(5)
    hits = [
        p
        for p in simulator.visible_posts()
        if "鲜味" in p.text or (p.repost_of and "鲜味" in simulator.scenario.by_id[p.repost_of].text)
    ]
    result = fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC), max_pages=20)
    brand_pages = [r for r in simulator.requests if "%E9%B2%9C" in r.path]  # q=鲜味坊
    # 10 per page; the last page says there is no next one, so no request past the end
    assert len(hits) > 20
    assert len(brand_pages) == -(-len(hits) // 10)
    assert [r.path.rsplit("page=", 1)[1] for r in brand_pages] == [
        str(n) for n in range(1, len(brand_pages) + 1)
    ]
    assert all(r.status == 200 for r in simulator.requests)
    assert result.pages_fetched == len(simulator.requests)


def test_max_pages_bounds_the_run(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(8)
    result = fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC), max_pages=2)
    assert [r.path.rsplit("page=", 1)[1] for r in simulator.requests] == ["1", "2", "1"]  # XWF has one page
    # newest first: what came back is the newest of the brand posts
    newest = max(p.created_at for p in result.posts)
    assert newest >= datetime.now(UTC) - timedelta(minutes=1, seconds=5)


def test_deduplicates_across_keywords_and_pages(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(8)
    result = fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC), max_pages=50)
    counts = Counter(p.key for p in result.posts)
    assert counts and max(counts.values()) == 1
    # posts with both the brand and its alias came back for both keywords; originals inside reposts
    # came back many times
    assert result.duplicates > 0
    both = [k for k, terms in result.terms.items() if len(terms) == 2]
    assert both, "the scenario has posts that name the brand and its alias"


def test_the_whole_scenario_tick_by_tick(
    simulator: PlatformSimulator, scenario: Scenario, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    """Like the scheduler: one run per tick. Every brand post is fetched, nothing unrelated is kept."""
    client = make_client()
    seen: set[str] = set()
    per_tick: list[int] = []
    previous_run: datetime | None = None
    for _ in scenario.ticks:
        simulator.advance()
        now = datetime.now(UTC)
        since = previous_run - timedelta(minutes=3) if previous_run else None
        result = fetch_posts(job, simulator.base_url, client, now, max_pages=10, since=since)
        run_keys = [p.key for p in result.posts]
        assert len(run_keys) == len(set(run_keys))
        assert not set(run_keys) & keys(scenario.unrelated_posts())
        per_tick.append(len(set(run_keys) - seen))
        seen |= set(run_keys)
        previous_run = now
    assert seen == keys(scenario.brand_posts())
    assert sum(per_tick) == len(scenario.brand_posts())
    assert per_tick[-1] > 3 * per_tick[0]  # the burst


def test_after_the_last_tick_one_run_returns_every_brand_post_exactly_once(
    simulator: PlatformSimulator, scenario: Scenario, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(len(scenario.ticks))
    result = fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC), max_pages=50)
    returned = [p.key for p in result.posts]
    assert len(returned) == len(set(returned))
    assert set(returned) == keys(scenario.brand_posts())
    assert result.dropped == len(scenario.unrelated_posts())  # noise and excluded: all seen, all dropped
    assert result.skipped == []


def test_parsed_posts_carry_the_scenario(
    simulator: PlatformSimulator, scenario: Scenario, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.advance(len(scenario.ticks))
    now = datetime.now(UTC)
    posts = {
        p.post_id: p for p in fetch_posts(job, simulator.base_url, make_client(), now, max_pages=50).posts
    }
    for sim_post in scenario.brand_posts():
        post = posts[sim_post.id]
        assert post.text == sim_post.text
        age = timedelta(seconds=sim_post.age_seconds(simulator.current_tick))
        # "N分钟前" has minute precision
        assert now - age - timedelta(seconds=1) <= post.created_at <= now - age + timedelta(seconds=60)
        assert post.repost_of == (f"weibo#{sim_post.repost_of}" if sim_post.repost_of else None)
    [media] = [p for p in scenario.posts if p.kind == "media"]
    parsed = posts[media.id]
    assert parsed.author.verified_type == 3 and parsed.author.followers == 1_230_000
    assert parsed.text.endswith("...") and "全文" not in parsed.text
    assert parsed.engagement.likes >= 10_000  # served as "2万+"
    assert any("[怒]" in p.text for p in posts.values())


def test_mixed_created_at_formats(
    scenario: Scenario, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    with PlatformSimulator(scenario, created_at_style="mixed") as sim:
        sim.advance(len(scenario.ticks))
        now = datetime.now(UTC)
        result = fetch_posts(job, sim.base_url, make_client(), now, max_pages=50)
    assert result.skipped == []
    assert len(result.posts) == len(scenario.brand_posts())
    assert all(now - timedelta(minutes=20) <= p.created_at <= now for p in result.posts)


@pytest.mark.parametrize(("brand", "alias", "seed"), [("鲜味坊", "XWF", 1), ("好味来", "HWL", 3)])
def test_other_brands_and_seeds(
    brand: str, alias: str, seed: int, make_client: Callable[..., HttpClient]
) -> None:
    scenario = Scenario.generate(brand, alias=alias, seed=seed)
    assert Scenario.generate(brand, alias=alias, seed=seed).posts == scenario.posts  # deterministic
    watch = Watch(id="w", name=brand, keywords=scenario.keywords, exclude=list(scenario.exclude))
    job = FetchJob(watch=watch, platform="weibo", scheduled_at=datetime.now(UTC))
    with PlatformSimulator(scenario) as sim:
        sim.advance(len(scenario.ticks))
        result = fetch_posts(job, sim.base_url, make_client(), datetime.now(UTC), max_pages=50)
    assert sorted(p.key for p in result.posts) == sorted(keys(scenario.brand_posts()))
    assert result.dropped == len(scenario.unrelated_posts())
