"""A generated recording in the THU CED format, for `make cost` where ../shared is not there.

Seeded, so every run replays the same posts. Each cascade is one source post about the brand
(鲜味坊), a burst of reposts (most of them in the first half hour, arriving ever faster and then
slowing: a crisis being shared), and a quiet tail of single reposts over the following hours;
one cascade is ordinary chatter (a queue at the restaurant) with a few reposts. About one repost
in eight reposts another repost (depth 2), one in ten has no text of its own.

    events, posts = write_recording(folder, size="default")
"""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from infra.local.simulator.cascades import EVENT_COLUMNS, POST_COLUMNS

BRAND = "鲜味坊"
CHINA = timezone(timedelta(hours=8))
START = 1347334462  # 2012-09-11 11:34:22 +08:00, a morning like the CED recordings'


@dataclass(frozen=True)
class Cascade:
    offset_s: int  # after START
    label: str
    text: str
    followers: int
    verified: bool
    burst: int  # reposts in the burst
    burst_minutes: int
    tail: int  # reposts in the tail
    tail_hours: float


SIZES: dict[str, list[Cascade]] = {
    # About 300 posts over 6 hours, 90 ticks with new posts: one to two minutes on the embedded AWS.
    "default": [
        Cascade(0, "rumor", f"【{BRAND}后厨老鼠乱窜】网友爆料，{BRAND}人民广场店后厨有老鼠，食材过期，谁来管？[怒]",
                1_200_000, True, 120, 40, 25, 5),
        Cascade(900, "non-rumor", f"周末在{BRAND}排队排了一小时，还是好吃", 300, False, 6, 30, 4, 3),
        Cascade(5400, "rumor", f"{BRAND}吃出虫子！多名顾客拉肚子，门店拒绝赔偿[怒]", 86_000, True, 100, 45, 20, 4),
        Cascade(10800, "rumor", f"{BRAND}回应食品安全问题：已停业整改，配合调查", 520_000, True, 20, 30, 5, 2),
    ],
    # About 60 posts over 2 hours: the test's (under a minute).
    "small": [
        Cascade(0, "rumor", f"【{BRAND}后厨老鼠乱窜】网友爆料，{BRAND}后厨有老鼠，食材过期[怒]", 120_000, True, 40, 20, 6, 1.5),
        Cascade(600, "non-rumor", f"周末在{BRAND}排队排了一小时，还是好吃", 300, False, 3, 20, 2, 1),
    ],
}  # fmt: skip

ANGRY = [
    "太恶心了[吐]",
    f"再也不去{BRAND}了[怒]",
    "食品安全问题谁来管？",
    "恶心，必须曝光",
    "老鼠？！吓死了[泪]",
    "要求退款[怒]",
    "投诉了，等结果",
    "真的假的？太可怕了",
    "已经拉黑这家店",
    "后厨太脏了，恶心[吐]",
    "愤怒！监管部门呢",
    "拉肚子了，原来如此[怒]",
    "难怪上次吃完不舒服",
    "转给朋友们看看，别去了",
]
CALM = ["同款排队", "等了好久", "好吃是好吃", "下次早点去", "求地址", "周末人太多"]


def _cst(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, CHINA).isoformat()


def _mid(rng: random.Random) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "z" + "".join(rng.choice(alphabet) for _ in range(8))


def _repost_offsets(rng: random.Random, cascade: Cascade) -> list[int]:
    """Seconds after the source: a burst that peaks early (a gamma-shaped wave), then a tail."""
    burst_s = cascade.burst_minutes * 60
    burst = [min(burst_s, int(rng.gammavariate(2.0, burst_s / 6))) + 20 for _ in range(cascade.burst)]
    tail = [int(rng.uniform(burst_s, burst_s + cascade.tail_hours * 3600)) for _ in range(cascade.tail)]
    return sorted(burst + tail)


def rows(size: str = "default", seed: int = 20121) -> tuple[list[dict], list[dict]]:
    """The events and posts rows (the README's CED columns) of the generated recording."""
    rng = random.Random(seed)
    events, posts = [], []
    for n, cascade in enumerate(SIZES[size]):
        t0 = START + cascade.offset_s
        source_mid, author = _mid(rng), str(2_000_000_000 + n)
        event_id = f"{n}_{source_mid}_{author}"
        offsets = _repost_offsets(rng, cascade)
        texts = ANGRY if cascade.label == "rumor" else CALM
        event_posts = [
            _post(event_id, cascade.label, "source", source_mid, "", 0, author, t0, t0, cascade.text)
        ]
        reposts: list[str] = []
        for offset in offsets:
            mid = _mid(rng)
            parent = rng.choice(reposts) if reposts and rng.random() < 0.125 else ""
            text = "" if rng.random() < 0.1 else rng.choice(texts)
            uid = str(3_000_000_000 + rng.randrange(10**8))
            event_posts.append(
                _post(
                    event_id,
                    cascade.label,
                    "repost",
                    mid,
                    parent,
                    2 if parent else 1,
                    uid,
                    t0 + offset,
                    t0,
                    text,
                )
            )
            reposts.append(mid)
        posts += event_posts
        events.append(
            {
                "event_id": event_id,
                "label": cascade.label,
                "source_mid": source_mid,
                "author_uid": author,
                "time_epoch": t0,
                "time_cst": _cst(t0),
                "text": cascade.text,
                "reposts": len(offsets) * 3,
                "comments": len(offsets) * 2,
                "likes": len(offsets) * 5,
                "pics": 0,
                "has_url": False,
                "source_client": "微博 weibo.com",
                "user_followers": cascade.followers,
                "user_friends": 200,
                "user_messages": 3000,
                "user_verified": cascade.verified,
                "user_verified_type": 3 if cascade.verified else -1,
                "user_gender": "f",
                "user_location": "上海",
                "user_created_epoch": 1312112304,
                "n_repost_records": len(offsets),
                "n_repost_records_with_text": sum(1 for p in event_posts[1:] if p["text"]),
                "first_repost_offset_s": offsets[0] if offsets else 0,
                "last_repost_offset_s": offsets[-1] if offsets else 0,
                "max_depth": max(p["depth"] for p in event_posts),
            }
        )
    return events, posts


def _post(event_id, label, kind, mid, parent, depth, uid, t, t0, text) -> dict:
    return {
        "event_id": event_id,
        "label": label,
        "kind": kind,
        "mid": mid,
        "parent": parent,
        "depth": depth,
        "uid": uid,
        "time_epoch": t,
        "time_cst": _cst(t),
        "offset_s": t - t0,
        "text": text,
    }


def write_recording(folder: Path, size: str = "default", seed: int = 20121) -> tuple[Path, Path]:
    """events.csv.gz and posts.csv.gz of the generated recording, in `folder`."""
    events, posts = rows(size, seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "events.csv.gz", folder / "posts.csv.gz"
    for path, columns, data in ((paths[0], EVENT_COLUMNS, events), (paths[1], POST_COLUMNS, posts)):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows(data)
    return paths
