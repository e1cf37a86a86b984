"""A tiny recording in the THU CED format (``../shared/data/streams/ced``: the README's columns),
written by the tests themselves: three events and their reposts.

- A (rumour, 2012-09-11 11:34:22 CST): a verified media account (120,000 followers) reports rats in
  鲜味坊's kitchen; 14 angry reposts in its first 20 minutes (one empty, one a repost of a repost),
  one an hour later and one 30 hours later.
- B (non-rumour, 100 s after A): someone queues at 鲜味坊; two reposts.
- C (non-rumour, ten days later): about the stock market; one repost.
"""

from __future__ import annotations

import csv
import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

# As listed in ../shared/data/README.md (streams/ced), not taken from the code under test.
EVENT_COLUMNS = [
    "event_id",
    "label",
    "source_mid",
    "author_uid",
    "time_epoch",
    "time_cst",
    "text",
    "reposts",
    "comments",
    "likes",
    "pics",
    "has_url",
    "source_client",
    "user_followers",
    "user_friends",
    "user_messages",
    "user_verified",
    "user_verified_type",
    "user_gender",
    "user_location",
    "user_created_epoch",
    "n_repost_records",
    "n_repost_records_with_text",
    "first_repost_offset_s",
    "last_repost_offset_s",
    "max_depth",
]
POST_COLUMNS = [
    "event_id",
    "label",
    "kind",
    "mid",
    "parent",
    "depth",
    "uid",
    "time_epoch",
    "time_cst",
    "offset_s",
    "text",
]
T0 = 1347334462  # 2012-09-11 11:34:22 +08:00
A, B, C = "0_yBmepBtUB_2279086572", "1_yBmf0aaaa_1000000001", "2_z5qFIwiEj_2771041282"
ANGRY = [
    "太恶心了[吐]",
    "再也不去鲜味坊了[怒]",
    "食品安全问题谁来管？",
    "",
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
]


def _cst(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone(timedelta(hours=8))).isoformat()


def _event(event_id, label, mid, uid, t, text, followers, verified, vtype, n_reposts) -> dict:
    return {
        "event_id": event_id,
        "label": label,
        "source_mid": mid,
        "author_uid": uid,
        "time_epoch": t,
        "time_cst": _cst(t),
        "text": text,
        "reposts": n_reposts * 3,
        "comments": n_reposts * 2,
        "likes": n_reposts * 5,
        "pics": 0,
        "has_url": False,
        "source_client": "微博 weibo.com",
        "user_followers": followers,
        "user_friends": 100,
        "user_messages": 1000,
        "user_verified": verified,
        "user_verified_type": vtype,
        "user_gender": "f",
        "user_location": "上海",
        "user_created_epoch": 1312112304,
        "n_repost_records": n_reposts,
        "n_repost_records_with_text": n_reposts,
        "first_repost_offset_s": 30,
        "last_repost_offset_s": 30 * 3600,
        "max_depth": 2,
    }


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


A_TEXT = "【鲜味坊后厨老鼠乱窜】网友爆料，鲜味坊人民广场店后厨有老鼠，食材过期，食品安全谁来管？[怒]"
B_TEXT = "周末在鲜味坊排队排了一小时，还是好吃"
C_TEXT = "股市今天大涨，券商板块领涨"


def events() -> list[dict]:
    return [
        _event(A, "rumor", "yBmepBtUB", "2279086572", T0, A_TEXT, 120_000, True, 3, 16),
        _event(B, "non-rumor", "yBmf0aaaa", "1000000001", T0 + 100, B_TEXT, 300, False, -1, 2),
        _event(C, "non-rumor", "z5qFIwiEj", "2771041282", T0 + 10 * 86400, C_TEXT, 5000, False, -1, 1),
    ]


def posts() -> list[dict]:
    rows = [_post(A, "rumor", "source", "yBmepBtUB", "", 0, "2279086572", T0, T0, A_TEXT)]
    for i, text in enumerate(ANGRY):
        parent = "yBmeZkX50" if i == 5 else ""  # a repost of the first repost
        rows.append(
            _post(
                A,
                "rumor",
                "repost",
                f"yBmeZkX5{i:X}",
                parent,
                2 if parent else 1,
                f"fan{i}",
                T0 + 30 + 80 * i,
                T0,
                text,
            )
        )
    rows.append(
        _post(A, "rumor", "repost", "yBmzzzz01", "", 1, "3000000001", T0 + 3700, T0, "一个小时了还没回应？")
    )
    rows.append(_post(A, "rumor", "repost", "yBmzzzz02", "", 1, "3000000002", T0 + 30 * 3600, T0, "后续呢"))
    rows.append(_post(B, "non-rumor", "source", "yBmf0aaaa", "", 0, "1000000001", T0 + 100, T0 + 100, B_TEXT))
    rows.append(_post(B, "non-rumor", "repost", "yBmf0aab1", "", 1, "walker", T0 + 250, T0 + 100, "同款排队"))
    rows.append(_post(B, "non-rumor", "repost", "yBmf0aab2", "", 1, "1000000003", T0 + 900, T0 + 100, ""))
    tc = T0 + 10 * 86400
    rows.append(_post(C, "non-rumor", "source", "z5qFIwiEj", "", 0, "2771041282", tc, tc, C_TEXT))
    rows.append(_post(C, "non-rumor", "repost", "z5qFIwiE1", "", 1, "2771041283", tc + 60, tc, "牛市来了"))
    return rows


def write_ced(folder: Path) -> tuple[Path, Path]:
    """events.csv.gz and posts.csv.gz in ``folder``, exactly the README's columns."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "events.csv.gz", folder / "posts.csv.gz"
    for path, columns, rows in ((paths[0], EVENT_COLUMNS, events()), (paths[1], POST_COLUMNS, posts())):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return paths
