"""DynamoDB: scored posts and the 5-minute counters of each watch and story, written exactly once per post."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from crisiswatch.aws.items import batch_get, error_code, from_item, to_value
from crisiswatch.constants import BUCKET_TTL_DAYS, POST_TTL_DAYS
from crisiswatch.incidents.policy import (
    WindowStats,
    bucket_id,
    bucket_start,
    engagement_growth,
    parse_bucket_id,
)
from crisiswatch.ports import Saved, ScoredPost, StoreThrottled
from crisiswatch.vocabulary import Post

BUCKET_PREFIX = "BUCKET#"
BUCKET_KEY_LENGTH = len("BUCKET#yyyy-mm-ddThh:mm")
STORY_COUNT_PREFIX = "story#"  # a watch bucket's attribute per story: its posts in that bucket
TRANSACTION_MAX_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
TRANSACTION_ATTEMPTS = 4
# Cancellations worth another try: a concurrent transaction on one of the items (two scorers adding
# to one bucket), throttling. Anything else (validation, size) is raised.
RETRIED_CANCELLATIONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


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

    def _counter_update(
        self, pk: str, moment: datetime, counts: WindowStats, stories: Mapping[str, int] | None = None
    ) -> dict:
        """ADD the counts to the bucket; a watch's bucket also counts its posts per story."""
        counters = {name: value for name, value in counts.to_counters().items() if value}
        counters |= {STORY_COUNT_PREFIX + story: n for story, n in (stories or {}).items() if story and n}
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

    def save_all(self, batch: Sequence[ScoredPost], now: datetime) -> list[Saved]:
        """One transaction per up to 100 items: the new posts' conditional writes and one counter
        update per (series, bucket) they add to, so a post and its counts land together. Which
        posts are already counted is read first (BatchGetItem, half a read unit a post), so a
        redelivery or a refresh does not cancel the new posts' transaction; a post stored by a
        concurrent scorer in between cancels it, and the rest is written again without it."""
        results: list[Saved | None] = [None] * len(batch)
        firsts: dict[tuple[str, str], int] = {}
        repeats: list[int] = []  # the same post for the same watch again in this batch
        for i, item in enumerate(batch):
            if firsts.setdefault((item.post.key, item.post.watch_id), i) != i:
                repeats.append(i)
        counted = self._counted({item.post.key for item in batch})
        known: list[int] = []
        new: list[int] = []
        for i in firsts.values():
            item = batch[i].post
            (known if item.watch_id in counted.get(item.key, ()) else new).append(i)
        for chunk in _transactions(batch, new, now):
            existed = self._store(batch, chunk, now)
            known += existed
            for i in chunk:
                if i not in existed:
                    results[i] = Saved(stored=True)
        for i in sorted(known) + repeats:
            # Each post's growth is counted right after its refresh: a failure in between loses
            # that one post's (a redelivery finds it refreshed), never the batch's.
            gained = self._refresh_engagement(batch[i].post, now)
            results[i] = Saved(stored=False, growth=gained)
            if gained:
                watch, story = batch[i].post.watch_id, batch[i].story
                for pk in dict.fromkeys([series_pk(watch), series_pk(watch, story)]):
                    self._db.update_item(**self._counter_update(pk, now, WindowStats(engagement=gained)))
        return [saved for saved in results if saved is not None]

    def _counted(self, keys: set[str]) -> dict[str, set[str]]:
        """Post key -> the watches that counted it, for the keys stored (eventually consistent: a
        post stored a moment ago and not seen yet is caught by the transaction's condition)."""
        return {item["pk"]: set(item.get("watch_ids", ())) for item in self._read(keys, "pk, watch_ids")}

    def stories(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        found = {}
        for item in self._read(set(keys), "pk, #score.story", {"#score": f"score#{watch_id}"}):
            story = item.get(f"score#{watch_id}", {}).get("story")
            if story:
                found[item["pk"]] = story
        return found

    def _read(self, keys: set[str], projection: str, names: dict[str, str] | None = None) -> list[dict]:
        """The stored posts of `keys` with the attributes of `projection` (eventually consistent:
        half a read unit a post); keys not stored are left out."""
        typed = [{"pk": to_value(key)} for key in sorted(keys)]
        return batch_get(self._db, self._posts, typed, projection=projection, names=names)

    def _store(self, batch: Sequence[ScoredPost], chunk: list[int], now: datetime) -> list[int]:
        """Write the chunk's posts and their summed counters in one transaction; returns the
        indexes of posts found already counted (written again without them)."""
        chunk = list(chunk)
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            if not chunk:
                return []
            posts = [self._post_update(batch[i], now) for i in chunk]
            counters = [
                self._counter_update(pk, moment, counts, stories)
                for (pk, moment), (counts, stories) in _sums(batch, chunk, now).items()
            ]
            try:
                self._db.transact_write_items(
                    TransactItems=[{"Update": u} for u in posts + counters],
                    # The SDK's own retry of a transaction that committed unseen (a timeout) then
                    # succeeds instead of finding its posts stored and reporting them duplicates.
                    ClientRequestToken=_token(batch, chunk, now, attempt),
                )
                return []
            except ClientError as e:
                if error_code(e) != "TransactionCanceledException":
                    raise
                reasons = e.response.get("CancellationReasons") or []
                existed = [
                    i
                    for i, r in zip(chunk, reasons, strict=False)
                    if r.get("Code") == "ConditionalCheckFailed"
                ]
                if existed:
                    rest = [i for i in chunk if i not in existed]
                    return existed + self._store(batch, rest, now)
                codes = sorted({r.get("Code") for r in reasons if r.get("Code") not in (None, "None")})
                if attempt == TRANSACTION_ATTEMPTS or not set(codes) <= RETRIED_CANCELLATIONS:
                    raise StoreThrottled(f"posts transaction cancelled: {codes}") from e
                time.sleep(0.05 * 2**attempt)  # another scorer's transaction on the same bucket
        return []

    def _post_update(self, item: ScoredPost, now: datetime) -> dict:
        post, story = item.post, item.story
        post_values = {
            ":post": post.model_dump(mode="json", exclude={"watch_id", "matched_terms"}),
            ":score": {
                **item.score.model_dump(mode="json"),
                "matched_terms": post.matched_terms,
                **({"story": story} if story else {}),
            },
            ":watch_id": post.watch_id,
            ":created": post.created_at.isoformat(),
            ":now": now.isoformat(),
            ":ttl": int((now + timedelta(days=POST_TTL_DAYS)).timestamp()),
        }
        return {
            "TableName": self._posts,
            "Key": {"pk": to_value(post.key)},
            "UpdateExpression": "SET post = if_not_exists(post, :post), created_at = :created, "
            "seen_at = :now, expires_at = :ttl, #score = :score ADD watch_ids :watch",
            "ConditionExpression": "attribute_not_exists(watch_ids) OR NOT contains(watch_ids, :watch_id)",
            "ExpressionAttributeNames": {"#score": f"score#{post.watch_id}"},
            "ExpressionAttributeValues": {k: to_value(v) for k, v in post_values.items()}
            | {":watch": {"SS": [post.watch_id]}},
        }

    def _refresh_engagement(self, post: Post, now: datetime) -> int:
        """Keep the latest counters and the previous poll's, so growth between polls is known;
        returns the growth (a refresh that changes nothing gains nothing, so a redelivery cannot
        add it twice)."""
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
        return engagement_growth(previous, engagement)

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


def _sums(
    batch: Sequence[ScoredPost], chunk: list[int], now: datetime
) -> dict[tuple[str, datetime], tuple[WindowStats, dict[str, int]]]:
    """The chunk's counts summed per counter item (series, bucket start), with a watch bucket's
    posts per story."""
    sums: dict[tuple[str, datetime], tuple[WindowStats, dict[str, int]]] = {}
    for i in chunk:
        item = batch[i]
        moment = bucket_start(min(item.post.created_at, now))
        watch = item.post.watch_id
        targets = [(series_pk(watch), item.story)] + (
            [(series_pk(watch, item.story), "")] if item.story else []
        )
        for pk, story in targets:
            counts, stories = sums.get((pk, moment), (WindowStats(), {}))
            if story and item.counts.mentions:
                stories = stories | {story: stories.get(story, 0) + item.counts.mentions}
            sums[(pk, moment)] = (counts + item.counts, stories)
    return sums


def _token(batch: Sequence[ScoredPost], chunk: list[int], now: datetime, attempt: int) -> str:
    """The same for one call and the SDK's retries of it; another for our own next attempt (after
    a known cancellation) and for any other posts or moment."""
    names = sorted(f"{batch[i].post.watch_id}/{batch[i].post.key}" for i in chunk)
    return hashlib.sha256("\n".join([now.isoformat(), str(attempt), *names]).encode()).hexdigest()[:36]


def _transactions(batch: Sequence[ScoredPost], indexes: list[int], now: datetime) -> list[list[int]]:
    """The posts split into transactions of at most TRANSACTION_MAX_ITEMS items (posts and the
    counter items they add to), none naming one post item twice (DynamoDB refuses that)."""
    chunks: list[list[int]] = []
    chunk: list[int] = []
    for i in indexes:
        keys = {batch[j].post.key for j in chunk}
        items = len(chunk) + 1 + len(_sums(batch, chunk + [i], now))
        if chunk and (batch[i].post.key in keys or items > TRANSACTION_MAX_ITEMS):
            chunks.append(chunk)
            chunk = []
        chunk.append(i)
    return chunks + ([chunk] if chunk else [])
