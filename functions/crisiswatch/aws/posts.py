"""DynamoDB: scored posts and the per-watch hourly counters they feed, written exactly once per post."""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.constants import BUCKET_TTL_DAYS, POST_TTL_DAYS
from crisiswatch.incidents.policy import WindowStats, hour_bucket
from crisiswatch.vocabulary import Post, Score


def bucket_key(moment: datetime) -> str:
    return f"BUCKET#{hour_bucket(moment)}"


def _watch_pk(watch_id: str) -> str:
    return f"WATCH#{watch_id}"


class DynamoPostRepository:
    def __init__(self, client, posts_table: str, state_table: str):
        self._db = client
        self._posts = posts_table
        self._state = state_table

    def save(self, post: Post, score: Score, counts: WindowStats, now: datetime) -> bool:
        """Store the post and add `counts` to its watch's hourly bucket, once per watch, atomically.

        Returns False when this watch already counted the post: a redelivered message, or the same
        post fetched again, changes no counter (its engagement counters are refreshed instead).
        The same post matched by a second watch is stored once and counted for that watch too. A
        crash between the two writes cannot happen: they are one transaction.
        """
        counted_at = min(post.created_at, now)
        post_values = {
            ":post": post.model_dump(mode="json", exclude={"watch_id", "matched_terms"}),
            ":score": {**score.model_dump(mode="json"), "matched_terms": post.matched_terms},
            ":watch": {"SS": [post.watch_id]},
            ":watch_id": post.watch_id,
            ":created": post.created_at.isoformat(),
            ":now": now.isoformat(),
            ":ttl": int((now + timedelta(days=POST_TTL_DAYS)).timestamp()),
        }
        increments = {
            ":one": counts.mentions,
            ":neg": counts.negatives,
            ":high": counts.high_risk,
            ":risk": round(counts.risk_sum, 4),
            ":reach": counts.reach,
            ":ttl": int((counted_at + timedelta(days=BUCKET_TTL_DAYS)).timestamp()),
        }
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
                    {
                        "Update": {
                            "TableName": self._state,
                            "Key": {
                                "pk": to_value(_watch_pk(post.watch_id)),
                                "sk": to_value(bucket_key(counted_at)),
                            },
                            "UpdateExpression": "ADD mentions :one, negatives :neg, high_risk :high, "
                            "risk_sum :risk, reach :reach SET expires_at = :ttl",
                            "ExpressionAttributeValues": {k: to_value(v) for k, v in increments.items()},
                        }
                    },
                ]
            )
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException" and _post_existed(e):
                self._refresh_engagement(post, now)
                return False
            raise
        return True

    def _refresh_engagement(self, post: Post, now: datetime) -> None:
        """Keep the latest counters and the previous poll's, so growth between polls is known."""
        engagement = post.engagement.model_dump(mode="json")
        try:
            self._db.update_item(
                TableName=self._posts,
                Key={"pk": to_value(post.key)},
                UpdateExpression="SET previous_engagement = post.engagement, previous_seen_at = seen_at, "
                "post.engagement = :e, seen_at = :now",
                ConditionExpression="post.engagement <> :e",
                ExpressionAttributeValues={":e": to_value(engagement), ":now": to_value(now.isoformat())},
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":  # unchanged: nothing to record
                raise

    def window(self, watch_id: str, now: datetime, hours: int) -> WindowStats:
        """The watch's counters over the last `hours` hours, the current hour included."""
        start = now - timedelta(hours=hours - 1)
        total = WindowStats()
        kwargs = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": to_value(_watch_pk(watch_id)),
                ":start": to_value(bucket_key(start)),
                ":end": to_value(bucket_key(now)),
            },
        }
        while True:
            page = self._db.query(**kwargs)
            for raw in page.get("Items", []):
                bucket = from_item(raw)
                total = total + WindowStats(
                    mentions=bucket.get("mentions", 0),
                    negatives=bucket.get("negatives", 0),
                    high_risk=bucket.get("high_risk", 0),
                    risk_sum=float(bucket.get("risk_sum", 0)),
                    reach=bucket.get("reach", 0),
                )
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, post_key: str) -> dict | None:
        raw = self._db.get_item(TableName=self._posts, Key={"pk": to_value(post_key)}).get("Item")
        return from_item(raw) if raw else None


def _post_existed(error: ClientError) -> bool:
    # The first transaction item is the post's conditional update.
    reasons = error.response.get("CancellationReasons") or [{}]
    return reasons[0].get("Code") == "ConditionalCheckFailed"
