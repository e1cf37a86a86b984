"""DynamoDB: scored posts and the 5-minute counters of each watch and story, written exactly once per post."""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.constants import BUCKET_TTL_DAYS, POST_TTL_DAYS
from crisiswatch.incidents.policy import WindowStats, bucket_id, engagement_growth, parse_bucket_id
from crisiswatch.ports import Saved
from crisiswatch.vocabulary import Post, Score

BUCKET_PREFIX = "BUCKET#"
BUCKET_KEY_LENGTH = len("BUCKET#yyyy-mm-ddThh:mm")
STORY_COUNT_PREFIX = "story#"  # a watch bucket's attribute per story: its posts in that bucket


def bucket_key(moment: datetime) -> str:
    return f"{BUCKET_PREFIX}{bucket_id(moment)}"


def series_pk(watch_id: str, story: str = "") -> str:
    """A watch's counters, or one of its stories'."""
    return f"STORY#{watch_id}#{story}" if story else f"WATCH#{watch_id}"


class DynamoPostRepository:
    def __init__(self, client, posts_table: str, state_table: str):
        self._db = client
        self._posts = posts_table
        self._state = state_table

    def _counter_update(self, pk: str, moment: datetime, counts: WindowStats, story: str = "") -> dict:
        """ADD the counts to the bucket; a watch's bucket also counts its posts per story."""
        counters = {name: value for name, value in counts.to_counters().items() if value}
        if story and counts.mentions:
            counters[STORY_COUNT_PREFIX + story] = counts.mentions
        names = {f"#c{i}": name for i, name in enumerate(counters)}
        values = {
            f":c{i}": to_value(round(v, 4) if isinstance(v, float) else v)
            for i, v in enumerate(counters.values())
        }
        values[":ttl"] = to_value(int((moment + timedelta(days=BUCKET_TTL_DAYS)).timestamp()))
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
        return {
            "TableName": self._state,
            "Key": {"pk": to_value(pk), "sk": to_value(bucket_key(moment))},
            "UpdateExpression": (f"ADD {adds} " if adds else "") + "SET expires_at = :ttl",
            "ExpressionAttributeValues": values,
            **({"ExpressionAttributeNames": names} if names else {}),
        }

    def save(self, post: Post, score: Score, counts: WindowStats, now: datetime, story: str = "") -> Saved:
        """Store the post and add `counts` to its watch's (and story's) bucket, once per watch, atomically.

        Returns `Saved(stored=False)` when this watch already counted the post: a redelivered
        message, or the same post fetched again, changes no counter (its engagement counters are
        refreshed instead, and what it gained is added to the current bucket). The same post matched
        by a second watch is stored once and counted for that watch too. A crash between the writes
        cannot happen: they are one transaction.
        """
        counted_at = min(post.created_at, now)
        post_values = {
            ":post": post.model_dump(mode="json", exclude={"watch_id", "matched_terms"}),
            ":score": {
                **score.model_dump(mode="json"),
                "matched_terms": post.matched_terms,
                **({"story": story} if story else {}),
            },
            ":watch": {"SS": [post.watch_id]},
            ":watch_id": post.watch_id,
            ":created": post.created_at.isoformat(),
            ":now": now.isoformat(),
            ":ttl": int((now + timedelta(days=POST_TTL_DAYS)).timestamp()),
        }
        counters = [self._counter_update(series_pk(post.watch_id), counted_at, counts, story)]
        if story:
            counters.append(self._counter_update(series_pk(post.watch_id, story), counted_at, counts))
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._posts,
                            "Key": {"pk": to_value(post.key)},
                            "UpdateExpression": "SET post = if_not_exists(post, :post), created_at = :created, "
                            "seen_at = :now, expires_at = :ttl, #score = :score ADD watch_ids :watch",
                            "ConditionExpression": "attribute_not_exists(watch_ids) OR NOT contains(watch_ids, :watch_id)",
                            "ExpressionAttributeNames": {"#score": f"score#{post.watch_id}"},
                            "ExpressionAttributeValues": {
                                k: (v if k == ":watch" else to_value(v)) for k, v in post_values.items()
                            },
                        }
                    },
                    *({"Update": update} for update in counters),
                ]
            )
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException" and _post_existed(e):
                return Saved(stored=False, growth=self._refresh_engagement(post, now, story))
            raise
        return Saved(stored=True)

    def _refresh_engagement(self, post: Post, now: datetime, story: str) -> int:
        """Keep the latest counters and the previous poll's, so growth between polls is known; add
        the growth to the current bucket (a refresh that changes nothing adds nothing, so a
        redelivery cannot add it twice)."""
        engagement = post.engagement.model_dump(mode="json")
        try:
            old = self._db.update_item(
                TableName=self._posts,
                Key={"pk": to_value(post.key)},
                UpdateExpression="SET previous_engagement = post.engagement, previous_seen_at = seen_at, "
                "post.engagement = :e, seen_at = :now",
                ConditionExpression="post.engagement <> :e",
                ExpressionAttributeValues={":e": to_value(engagement), ":now": to_value(now.isoformat())},
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":  # unchanged: nothing to record
                return 0
            raise
        previous = from_item(old.get("Attributes", {})).get("post", {}).get("engagement", {})
        growth = engagement_growth(previous, engagement)
        if growth:
            gained = WindowStats(engagement=growth)
            for pk in [series_pk(post.watch_id)] + ([series_pk(post.watch_id, story)] if story else []):
                self._db.update_item(**self._counter_update(pk, now, gained))
        return growth

    def buckets(
        self, watch_id: str, start: datetime, end: datetime, story: str = ""
    ) -> list[tuple[datetime, WindowStats]]:
        kwargs = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": to_value(series_pk(watch_id, story)),
                ":start": to_value(bucket_key(start)),
                ":end": to_value(bucket_key(end)),
            },
        }
        found = []
        while True:
            page = self._db.query(**kwargs)
            for raw in page.get("Items", []):
                item = from_item(raw)
                if len(item["sk"]) != BUCKET_KEY_LENGTH:
                    continue  # an hourly bucket of the detection before 5-minute buckets (expires by TTL)
                found.append(
                    (parse_bucket_id(item["sk"][len(BUCKET_PREFIX) :]), WindowStats.from_counters(item))
                )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def story_counts(self, watch_id: str, start: datetime, end: datetime) -> dict[str, int]:
        kwargs = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": to_value(series_pk(watch_id)),
                ":start": to_value(bucket_key(start)),
                ":end": to_value(bucket_key(end)),
            },
        }
        found: dict[str, int] = {}
        while True:
            page = self._db.query(**kwargs)
            for raw in page.get("Items", []):
                if len(raw["sk"]["S"]) != BUCKET_KEY_LENGTH:
                    continue
                for name, value in from_item(raw).items():
                    if name.startswith(STORY_COUNT_PREFIX):
                        story = name[len(STORY_COUNT_PREFIX) :]
                        found[story] = found.get(story, 0) + int(value)
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, post_key: str) -> dict | None:
        raw = self._db.get_item(TableName=self._posts, Key={"pk": to_value(post_key)}).get("Item")
        return from_item(raw) if raw else None


def _post_existed(error: ClientError) -> bool:
    # The first transaction item is the post's conditional update.
    reasons = error.response.get("CancellationReasons") or [{}]
    return reasons[0].get("Code") == "ConditionalCheckFailed"
