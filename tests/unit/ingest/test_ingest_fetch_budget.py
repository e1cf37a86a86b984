"""Fetching at scale: fewer searches per watch, and a job out of time defers its other keywords."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from crisiswatch.clock import SimulatedClock
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.cursor import FetchCursor
from crisiswatch.ingest.fetching import Fetcher, fetch_posts, search_terms
from crisiswatch.memory.messaging import MemoryQueue, MemorySecrets
from crisiswatch.memory.store import MemoryCursorStore
from crisiswatch.vocabulary import FetchJob, Watch
from tests.builders import post
from tests.unit.ingest.test_ingest_fetch_posts import FakeClient

Builder = Callable[..., dict[str, Any]]


def test_a_keyword_another_one_is_inside_of_is_not_searched_apart():
    terms = search_terms(["鲜味坊", "鲜味坊外卖", "XWF", "xwf", "  ", "鮮味坊门店", "黑心"])
    assert terms == {"鲜味坊": ["鲜味坊外卖", "鮮味坊门店"], "XWF": [], "黑心": []}
    assert search_terms(["鲜味坊外卖", "鲜味坊"]) == {"鲜味坊": ["鲜味坊外卖"]}  # whatever the order
    assert search_terms(["鲜味坊外卖", "鲜味坊外卖"]) == {"鲜味坊外卖": []}


def test_a_covered_keyword_is_searched_when_the_broad_search_is_cut_off(
    make_mblog: Builder, make_page: Builder, now: datetime
):
    watch = Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊", "鲜味坊外卖"])
    job = FetchJob(watch=watch, platform="weibo", scheduled_at=now)
    pages = {("鲜味坊", n): make_page(make_mblog(f"鲜味坊{n}"), next_page=n + 1) for n in range(1, 4)}
    quiet = FakeClient({("鲜味坊", 1): make_page(make_mblog("鲜味坊一"), next_page=None)})
    fetch_posts(job, "http://sim", quiet, now, max_pages=3)
    assert quiet.calls == [("鲜味坊", 1)]  # reached its end: it covers 鲜味坊外卖
    burst = FakeClient(
        pages | {("鲜味坊外卖", 1): make_page(make_mblog("鲜味坊外卖吃出虫子"), next_page=None)}
    )
    result = fetch_posts(job, "http://sim", burst, now, max_pages=3)
    assert burst.calls == [("鲜味坊", 1), ("鲜味坊", 2), ("鲜味坊", 3), ("鲜味坊外卖", 1)]
    assert "鲜味坊外卖吃出虫子" in [p.text for p in result.posts]


class Ticking:
    """A monotonic timer that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _fetcher(
    client: FakeClient, now: datetime, timer: Ticking, cursors: MemoryCursorStore | None = None
) -> tuple[Fetcher, MemoryQueue, MemoryCursorStore]:
    """A fetcher on memory adapters; also its fetch-jobs queue (continuations) and cursors."""
    jobs, cursors = MemoryQueue(), cursors or MemoryCursorStore()
    fetcher = Fetcher(
        cursors,
        MemoryQueue(),
        {"weibo": "http://sim"},
        PlatformCredentials(MemorySecrets(), {}),
        lambda seconds: client,
        SimulatedClock(now),
        fetch_queues={"weibo": jobs},
        timer=timer,
    )
    return fetcher, jobs, cursors


def _watch() -> Watch:
    return Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊", "XWF", "黑心外卖"])


def test_past_the_deadline_the_keywords_left_are_deferred_and_the_first_is_always_searched(
    make_mblog: Builder, make_page: Builder, now: datetime
):
    job = FetchJob(watch=_watch(), platform="weibo", scheduled_at=now)
    client = FakeClient({("鲜味坊", 1): make_page(make_mblog("鲜味坊一"), next_page=None)})
    result = fetch_posts(job, "http://sim", client, now, deadline=0.0, timer=Ticking(1.0))
    assert client.calls == [("鲜味坊", 1)]
    assert result.deferred == ["XWF", "黑心外卖"] and [p.text for p in result.posts] == ["鲜味坊一"]


def test_a_job_out_of_time_queues_its_continuation_which_searches_the_rest_back_to_the_same_since(
    make_mblog: Builder, make_page: Builder, now: datetime
):
    pages = {
        ("鲜味坊", 1): make_page(make_mblog("鲜味坊一", created_at="1分钟前"), next_page=None),
        ("XWF", 1): make_page(make_mblog("XWF二", created_at="30分钟前"), next_page=None),
        ("黑心外卖", 1): make_page(make_mblog("黑心外卖三", created_at="40分钟前"), next_page=None),
    }
    client = FakeClient(pages)
    timer = Ticking(25.0)  # every keyword takes 25 s: the 20-second budget is spent after the first
    fetcher, jobs, cursors = _fetcher(client, now, timer)
    since = now - timedelta(hours=1)
    first = fetcher.run(FetchJob(watch=_watch(), platform="weibo", scheduled_at=now, since=since), 60)

    assert [p.text for p in first.posts] == ["鲜味坊一"] and first.deferred == ["XWF", "黑心外卖"]
    (message,) = jobs.receive(10)
    rest = FetchJob.model_validate_json(message.body)
    assert rest.keywords == ["XWF", "黑心外卖"] and rest.since == since
    assert cursors.get("xianweifang", "weibo").high_water == now - timedelta(minutes=1)  # moved on

    timer.step = 1.0
    second = fetcher.run(rest, 60)  # older than the moved cursor's window, still found
    assert sorted(p.text for p in second.posts) == ["XWF二", "黑心外卖三"] and not second.deferred
    assert client.calls[-2:] == [("XWF", 1), ("黑心外卖", 1)]
    # Older than the cursor's window: later runs do not page back to them, so it need not keep them.
    assert cursors.get("xianweifang", "weibo").high_water == now - timedelta(minutes=1)


def test_a_continuation_pages_to_its_since_past_posts_its_parent_queued(
    make_mblog: Builder, make_page: Builder, now: datetime
):
    shared = make_mblog("鲜味坊 XWF 同一条", created_at="1分钟前")
    pages = {
        ("鲜味坊", 1): make_page(shared, next_page=None),
        ("XWF", 1): make_page(shared, next_page=2),  # all known to the parent's cursor
        ("XWF", 2): make_page(make_mblog("XWF 只在这里", created_at="30分钟前"), next_page=None),
    }
    client = FakeClient(pages)
    fetcher, jobs, _ = _fetcher(client, now, Ticking(25.0))
    watch = Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊", "XWF"])
    fetcher.run(FetchJob(watch=watch, platform="weibo", scheduled_at=now, since=now - timedelta(hours=1)), 60)
    (message,) = jobs.receive(10)
    rest = fetcher.run(FetchJob.model_validate_json(message.body), 60)
    assert [p.text for p in rest.posts] == ["XWF 只在这里"]


class StaleFirstRead(MemoryCursorStore):
    """A cursor store whose plain read is a moment old (another run saved since), as an eventually
    consistent read may be; a fresh read is the latest."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[bool] = []
        self.stale: Any = None

    def get(self, watch_id: str, platform: str, fresh: bool = False):
        self.reads.append(fresh)
        if not fresh and self.stale is not None:
            return self.stale
        return super().get(watch_id, platform, fresh)


def test_a_save_over_a_stale_read_merges_with_a_fresh_read_of_the_cursor(
    make_mblog: Builder, make_page: Builder, now: datetime
):
    client = FakeClient(
        {("鲜味坊", 1): make_page(make_mblog("鲜味坊新", created_at="1分钟前"), next_page=None)}
    )
    cursors = StaleFirstRead()
    cursors.stale = cursors.get("xianweifang", "weibo")  # version 0: what the read returns
    other_run = FetchCursor().after(
        [post("other", created_at=now - timedelta(minutes=3))], timedelta(minutes=10)
    )
    assert cursors.save("xianweifang", "weibo", other_run, now)  # ... while another run saved
    fetcher, _, _ = _fetcher(client, now, Ticking(0.1), cursors)
    job = FetchJob(
        watch=Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊"]), platform="weibo", scheduled_at=now
    )
    fetcher.run(job, 60)
    assert cursors.reads[-2:] == [False, True]  # the plain read, then the fresh one for the merge
    merged = cursors.get("xianweifang", "weibo", fresh=True)
    assert merged.version == 2 and merged.known("weibo#other") and len(merged.seen) == 2
