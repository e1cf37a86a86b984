"""The incident timeline's contract (crisiswatch.ports.Timeline), on DynamoDB (moto) and in memory."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.constants import Env
from crisiswatch.incidents.record import TimelineEvent
from crisiswatch.ports import InvalidCursor, StoreThrottled
from tests.builders import NOW

INCIDENT = "xianweifang-20261121-0230"


def event(key: str, minutes: float = 0, kind: str = "notified", **overrides) -> TimelineEvent:
    values = {
        "at": NOW + timedelta(minutes=minutes),
        "kind": kind,
        "key": key,
        "summary": f"短信已发送 {key}",
        "details": {"tier": "orange", "recipients": ["王经理"], "share": 0.25},
    }
    return TimelineEvent(**(values | overrides))


def everything(timeline, incident_id: str = INCIDENT, limit: int = 100) -> list[list[TimelineEvent]]:
    pages, cursor = [], None
    while True:
        events, cursor = timeline.page(incident_id, limit, cursor)
        pages.append(events)
        if cursor is None:
            return pages


def test_an_empty_timeline_has_one_empty_page(ports):
    assert ports.timeline.page(INCIDENT, 50) == ([], None)


def test_events_come_oldest_first_whatever_order_they_were_appended_in(ports):
    ports.timeline.append(INCIDENT, [event("c", 2), event("a", 0)])
    ports.timeline.append(INCIDENT, [event("b", 1), event("b2", 1), event("z", -60, kind="opened")])
    # Equal times are ordered by key; another time zone is the same instant.
    ports.timeline.append(
        INCIDENT, [event("b1", 0, at=(NOW + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=8))))]
    )

    events, cursor = ports.timeline.page(INCIDENT, 50)
    assert [e.key for e in events] == ["z", "a", "b", "b1", "b2", "c"] and cursor is None
    assert events[1] == event("a", 0)  # every field as appended
    assert events[3].at == NOW + timedelta(minutes=1)


def test_a_key_is_stored_once_even_when_a_retry_brings_another_time(ports):
    ports.timeline.append(INCIDENT, [event("notified#orange", 0)])
    ports.timeline.append(INCIDENT, [event("notified#orange", 0)])  # redelivered
    ports.timeline.append(
        INCIDENT, [event("notified#orange", 5, summary="retried later")]
    )  # clock read again
    ports.timeline.append(INCIDENT, [event("x", 1), event("x", 3, summary="twice in one append")])

    events, _ = ports.timeline.page(INCIDENT, 50)
    assert [(e.key, e.at, e.summary) for e in events] == [
        ("notified#orange", NOW, "短信已发送 notified#orange"),  # the first writer wins
        ("x", NOW + timedelta(minutes=1), "短信已发送 x"),
    ]


def test_paging_through_250_events_returns_each_once_in_order(ports):
    appended = [event(f"e{i:03d}", i / 10) for i in range(250)]
    for start in range(0, 250, 60):  # in several appends, as the incident's life brings them
        ports.timeline.append(INCIDENT, appended[start : start + 60][::-1])

    pages = everything(ports.timeline, limit=100)
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [e for p in pages for e in p] == appended


def test_a_full_last_page_says_there_is_no_more(ports):
    ports.timeline.append(INCIDENT, [event(f"e{i}", i) for i in range(4)])
    first, cursor = ports.timeline.page(INCIDENT, 2)
    second, after = ports.timeline.page(INCIDENT, 2, cursor)
    assert [e.key for e in first + second] == ["e0", "e1", "e2", "e3"] and after is None


def test_an_event_appended_after_a_page_shows_on_the_next(ports):
    ports.timeline.append(INCIDENT, [event("a", 0), event("b", 1)])
    first, cursor = ports.timeline.page(INCIDENT, 1)
    ports.timeline.append(INCIDENT, [event("c", 2)])
    rest = [e.key for p in everything_from(ports.timeline, cursor) for e in p]
    assert [e.key for e in first] + rest == ["a", "b", "c"]


def everything_from(timeline, cursor):
    pages = []
    while cursor is not None:
        events, cursor = timeline.page(INCIDENT, 1, cursor)
        pages.append(events)
    return pages


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor(**value) -> str:
    return _b64(json.dumps({"v": 1, "incident": INCIDENT, "after": "2026-11-21T02:30:00.000000Z#a"} | value))


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        ("", "empty"),
        ("not a cursor!", "not base64url"),
        ("x" * 1025, "longer than"),
        ("Zm9v", "does not decode"),  # "foo"
        (_b64("[1, 2]"), "unknown shape"),
        (_cursor(v=2), "unknown shape"),
        (_cursor(incident="other-20261121-0230"), "another incident"),
        (_cursor(after="2026-11-21#a"), "bad position"),
        (_cursor(after="2026-1-21T02:30:00.0000000Z#a"), "bad position"),
        (_cursor(after=7), "bad position"),
    ],
)
def test_a_malformed_cursor_is_refused_with_a_reason(ports, cursor, reason):
    ports.timeline.append(INCIDENT, [event("a")])
    with pytest.raises(ValueError, match=reason) as raised:
        ports.timeline.page(INCIDENT, 10, cursor)
    assert isinstance(raised.value, InvalidCursor)


def test_a_cursor_from_a_page_is_accepted_and_a_copied_one_from_another_incident_is_not(ports):
    ports.timeline.append(INCIDENT, [event("a", 0), event("b", 1)])
    ports.timeline.append("other-20261121-0230", [event("a", 0), event("b", 1)])
    _, cursor = ports.timeline.page(INCIDENT, 1)
    assert [e.key for e in ports.timeline.page(INCIDENT, 1, cursor)[0]] == ["b"]
    with pytest.raises(InvalidCursor, match="another incident"):
        ports.timeline.page("other-20261121-0230", 1, cursor)


def test_the_events_of_two_incidents_never_mix(ports):
    ports.timeline.append(INCIDENT, [event(f"k{i}", i) for i in range(5)])
    ports.timeline.append("other-20261121-0230", [event(f"k{i}", i + 0.5, summary="other") for i in range(7)])
    ports.timeline.append(
        "xianweifang-20261121-023", [event("prefix", 0)]
    )  # an id that is a prefix of another

    mine = [e for p in everything(ports.timeline, limit=2) for e in p]
    theirs = [e for p in everything(ports.timeline, "other-20261121-0230", limit=3) for e in p]
    assert [e.key for e in mine] == [f"k{i}" for i in range(5)]
    assert all(e.summary != "other" for e in mine)
    assert len(theirs) == 7 and all(e.summary == "other" for e in theirs)
    assert [e.key for e in ports.timeline.page("xianweifang-20261121-023", 10)[0]] == ["prefix"]


@pytest.mark.parametrize("limit", [0, -1])
def test_a_page_limit_must_be_positive(ports, limit):
    with pytest.raises(ValueError, match="positive"):
        ports.timeline.page(INCIDENT, limit)


def test_an_event_without_a_time_zone_or_a_key_is_refused_and_nothing_of_its_append_is_kept(ports):
    with pytest.raises(ValueError, match="timezone-aware"):
        ports.timeline.append(INCIDENT, [event("a"), event("naive", at=NOW.replace(tzinfo=None))])
    with pytest.raises(ValueError, match="key"):
        ports.timeline.append(INCIDENT, [event("")])
    assert ports.timeline.page(INCIDENT, 10) == ([], None)
    ports.timeline.append(INCIDENT, [event("a", 3)])  # "a" was never claimed
    assert ports.timeline.page(INCIDENT, 10)[0] == [event("a", 3)]


# --- the DynamoDB adapter only -----------------------------------------------------------------


def _state_items(prefix: str) -> list[dict]:
    client = boto3.client("dynamodb")
    items = client.scan(TableName=os.environ[Env.STATE_TABLE])["Items"]
    return sorted(
        (i for i in items if i["pk"]["S"].startswith(prefix)), key=lambda i: (i["pk"]["S"], i["sk"]["S"])
    )


def test_the_item_layout(aws):
    timeline = DynamoTimeline(boto3.client("dynamodb"), os.environ[Env.STATE_TABLE])
    timeline.append(INCIDENT, [event("notified#orange", 0.5)])
    ((item,),) = [_state_items("TIMELINE#")]
    assert item["pk"] == {"S": f"TIMELINE#{INCIDENT}"}
    assert item["sk"] == {"S": "2026-11-21T02:30:30.000000Z#notified#orange"}
    assert set(item) == {"pk", "sk", "at", "kind", "key", "summary", "details"}  # no expires_at: kept
    (marker,) = _state_items("TIMELINEKEY#")
    assert (marker["pk"], marker["sk"], marker["event_sk"]) == (
        {"S": f"TIMELINEKEY#{INCIDENT}"},
        {"S": "notified#orange"},
        item["sk"],
    )
    assert "expires_at" not in marker


class _Failing:
    """A DynamoDB client whose `operation` raises `code` the first `times` calls."""

    def __init__(self, client, operation: str, code: str, times: int = 1):
        self._client, self.operation, self.code, self.times = client, operation, code, times

    def __getattr__(self, name):
        call = getattr(self._client, name)
        if name != self.operation:
            return call

        def failing(**kwargs):
            if self.times > 0:
                self.times -= 1
                raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, name)
            return call(**kwargs)

        return failing


def test_an_append_stopped_after_its_markers_is_completed_by_the_retry_with_the_first_time(aws):
    client = _Failing(boto3.client("dynamodb"), "batch_write_item", "InternalServerError")
    timeline = DynamoTimeline(client, os.environ[Env.STATE_TABLE])
    with pytest.raises(ClientError):
        timeline.append(INCIDENT, [event("a", 0)])
    assert timeline.page(INCIDENT, 10) == ([], None)  # claimed, not written

    timeline.append(INCIDENT, [event("a", 9, summary="retry")])
    assert timeline.page(INCIDENT, 10)[0] == [event("a", 0)]
    assert len(_state_items("TIMELINE#")) == 1


@pytest.mark.parametrize("operation", ["put_item", "batch_write_item", "query"])
def test_throttling_is_a_domain_error(aws, operation):
    client = _Failing(boto3.client("dynamodb"), operation, "ProvisionedThroughputExceededException")
    timeline = DynamoTimeline(client, os.environ[Env.STATE_TABLE])
    with pytest.raises(StoreThrottled):
        timeline.append(INCIDENT, [event("a")])
        timeline.page(INCIDENT, 10)


class _Unprocessing:
    """A DynamoDB client whose BatchWriteItem leaves every item unprocessed `stubborn` times."""

    def __init__(self, client, stubborn: int):
        self._client, self.stubborn, self.calls = client, stubborn, 0

    def batch_write_item(self, RequestItems):
        self.calls += 1
        if self.stubborn > 0:
            self.stubborn -= 1
            return {"UnprocessedItems": RequestItems}
        return self._client.batch_write_item(RequestItems=RequestItems)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_items_left_unprocessed_are_written_again_after_a_backoff_then_throttle(aws):
    slept: list[float] = []
    client = _Unprocessing(boto3.client("dynamodb"), stubborn=2)
    timeline = DynamoTimeline(client, os.environ[Env.STATE_TABLE], sleep=slept.append)
    timeline.append(INCIDENT, [event(f"e{i}", i) for i in range(30)])  # two batches
    assert client.calls == 4 and slept == [0.05, 0.1]
    assert len(timeline.page(INCIDENT, 50)[0]) == 30

    stubborn = DynamoTimeline(
        _Unprocessing(boto3.client("dynamodb"), 99), os.environ[Env.STATE_TABLE], sleep=lambda _: None
    )
    with pytest.raises(StoreThrottled):
        stubborn.append(INCIDENT, [event("late", 40)])
    assert "late" not in [e.key for e in timeline.page(INCIDENT, 50)[0]]
