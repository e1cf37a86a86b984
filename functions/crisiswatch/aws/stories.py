"""DynamoDB: the story index, per watch: post key or fingerprint band -> story (state table)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from crisiswatch.aws.items import batch_get, error_code, to_value
from crisiswatch.constants import STORY_TTL_DAYS, TTL_ATTRIBUTE

STORIES_PREFIX = "STORIES#"


def _pk(watch_id: str) -> dict:
    return to_value(f"{STORIES_PREFIX}{watch_id}")


class DynamoStoryIndex:
    """Items `pk = STORIES#<watch>`, `sk = <key>`, with `story` (the value) and `expires_at`.

    `lookup` reads with BatchGetItem, 100 keys a call, and retries the keys DynamoDB leaves
    unprocessed a few times with a short backoff before it raises StoreThrottled: a partial answer
    would found stories that exist already. Eventually consistent (half a read unit a key, against
    one): what must be found is written by an earlier batch, and a redelivered batch comes back
    after the posts queue's visibility timeout (6 minutes), long after a write is visible
    everywhere (typically within a second). Two scorers assigning near-duplicates at the same
    moment may each found a story either way: strong reads did not close that race either.

    `remember` is one conditional PutItem per entry (`attribute_not_exists(pk)`; a failed condition
    means an earlier writer won, which is the contract). Not BatchWriteItem: it cannot be
    conditional, and post entries are not idempotent values either (a near-duplicate match depends
    on what the index held when the post was assigned, so two scorers racing on one post may differ;
    the first must win, as in the memory index). It would save round trips, not capacity: DynamoDB
    bills a batched write per item all the same. Only new entries are written: the four bands of
    a story's founding text, and the story of an original that its reposts preceded (a post's own
    story is kept with the stored post: crisiswatch.incidents.stories.StoryAssigner).
    """

    def __init__(self, client, state_table: str, sleep: Callable[[float], None] = time.sleep):
        self._db = client
        self._state = state_table
        self._sleep = sleep

    def lookup(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        items = batch_get(
            self._db,
            self._state,
            [{"pk": _pk(watch_id), "sk": to_value(key)} for key in keys],
            projection="sk, story",
            sleep=self._sleep,
        )
        return {item["sk"]: item["story"] for item in items}

    def remember(self, watch_id: str, entries: Mapping[str, str], now: datetime) -> None:
        expires_at = int((now + timedelta(days=STORY_TTL_DAYS)).timestamp())
        for key, story in entries.items():
            try:
                self._db.put_item(
                    TableName=self._state,
                    Item={
                        "pk": _pk(watch_id),
                        "sk": to_value(key),
                        "story": to_value(story),
                        TTL_ATTRIBUTE: to_value(expires_at),
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as e:
                if error_code(e) != "ConditionalCheckFailedException":  # an earlier writer won
                    raise
