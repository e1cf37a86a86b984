"""What a deployment from before 5-minute buckets and stories leaves in its tables is not misread."""

from __future__ import annotations

import os

import boto3

from crisiswatch.constants import Env
from crisiswatch.incidents.policy import counts_of
from crisiswatch.ports import ScoredPost
from tests.builders import NOW, counted, post, score
from tests.integration.helpers import stores


def test_hourly_buckets_of_the_old_detection_are_ignored(aws):
    posts, _ = stores()
    table = os.environ[Env.STATE_TABLE]
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": "WATCH#xianweifang"},
            "sk": {"S": f"BUCKET#{NOW:%Y-%m-%dT%H}"},
            "mentions": {"N": "40"},
        },
    )
    p = post("1", created_at=NOW)
    posts.save_all([ScoredPost(p, score(), counts_of(p, score()), "s-1")], NOW)

    assert counted(posts, "xianweifang", NOW, hours=2).mentions == 1  # the old hour's 40 are not counted
    assert posts.story_counts("xianweifang", NOW.replace(minute=0), NOW) == {"s-1": 1}


def test_an_incident_opened_before_stories_is_the_whole_watch_s_and_resolves(aws):
    from datetime import timedelta

    from crisiswatch.incidents.record import Resolution
    from tests.builders import incident

    _, incidents = stores()
    old = incident()  # story "": what every incident was before stories
    incidents.create(old)
    pointer = boto3.client("dynamodb").get_item(
        TableName=os.environ[Env.STATE_TABLE],
        Key={"pk": {"S": "WATCH#xianweifang"}, "sk": {"S": "OPEN_INCIDENT"}},
    )
    assert pointer["Item"]["incident_id"]["S"] == old.incident_id  # the pointer an old deployment wrote
    assert [i.incident_id for i in incidents.open_incidents("xianweifang")] == [old.incident_id]
    incidents.resolve(
        incidents.get(old.incident_id),
        Resolution(at=NOW + timedelta(hours=7), by="crisiswatch", reason="quiet"),
    )
    assert incidents.open_incidents("xianweifang") == []


def test_a_cursor_stored_with_json_keys_is_read_and_saved_over_in_the_binary_form(aws):
    from datetime import timedelta

    from crisiswatch.aws.cursors import DynamoCursorStore

    table = os.environ[Env.STATE_TABLE]
    db = boto3.client("dynamodb")
    created = int((NOW - timedelta(minutes=3)).timestamp())
    db.put_item(
        TableName=table,
        Item={
            "pk": {"S": "CURSOR#xianweifang#weibo"},
            "sk": {"S": "CURSOR"},
            "high_water": {"S": (NOW - timedelta(minutes=3)).isoformat()},
            "seen": {"S": f'[["weibo#1", {created}, 4]]'},
            "version": {"N": "3"},
        },
    )
    cursors = DynamoCursorStore(db, table)
    stored = cursors.get("xianweifang", "weibo")
    assert stored.version == 3 and stored.known("weibo#1").engagement == 4
    assert (
        stored.to_queue(
            [post("1", created_at=NOW - timedelta(minutes=3))], stored.since(timedelta(minutes=10))
        )
        == []
    )

    assert cursors.save(
        "xianweifang", "weibo", stored.after([post("2", created_at=NOW)], timedelta(minutes=10)), NOW
    )
    item = db.get_item(TableName=table, Key={"pk": {"S": "CURSOR#xianweifang#weibo"}, "sk": {"S": "CURSOR"}})[
        "Item"
    ]
    assert "B" in item["seen"] and len(item["seen"]["B"]) == 32  # both posts, 16 bytes each
    assert cursors.get("xianweifang", "weibo").known("weibo#1") is not None
