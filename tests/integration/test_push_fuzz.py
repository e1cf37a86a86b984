"""The push API fuzzed (issue 11, item 4): hypothesis-made bodies, each signed with the valid secret,
through the real push handler on moto. Whatever the body, the answer is one of the documented
statuses (202, 400, 413, 422), never a 5xx, and a refusal says why in a JSON `message`.

The bodies: valid-ish batches whose fields take random types, huge numbers (10**40, 1e40, NaN),
lone surrogates (escaped, or as invalid UTF-8), deep nesting, texts past POST_TEXT_MAX_CHARS and
bodies past PUSH_MAX_BODY_BYTES, unknown fields, broken JSON and bytes. A status histogram goes to
build/push-fuzz-report.json. PUSH_FUZZ_EXAMPLES sets the number of cases (default 3,000).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisiswatch.constants import Env
from crisiswatch.limits import POST_TEXT_MAX_CHARS, PUSH_MAX_BODY_BYTES, PUSH_MAX_POSTS
from tests.builders import utcnow
from tests.integration.helpers import dlq_url, queue_depth
from tests.integration.test_push import _signed, secret  # noqa: F401 - `secret` is a fixture

EXAMPLES = int(os.environ.get("PUSH_FUZZ_EXAMPLES", "3000"))
settings.register_profile(
    "push-fuzz",
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases every run: a failure here is reproducible, not flaky
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
DOCUMENTED = {202, 400, 413, 422}  # docs/ingest.md, "Push"; 401 cannot happen: every case is signed
REPORT = Path(__file__).resolve().parents[2] / "build" / "push-fuzz-report.json"
DEEP = "__deep__"  # a string value replaced by deep nesting once the body is serialized

# -- values -------------------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, in proportion to its weight (st.one_of picks evenly); shrinks to the first."""
    bag = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(bag) - 1).flatmap(lambda i: bag[i])


HUGE = st.sampled_from(
    [
        10**40,
        -(10**40),
        2**63,
        2**64,
        10**15,
        10**15 + 1,
        1e40,
        1e308,
        -1e308,
        0.5,
        -0.0,
        float("nan"),
        float("inf"),
    ]
)
NUMBERS = st.one_of(
    HUGE, st.integers(min_value=-(10**45), max_value=10**45), st.floats(allow_nan=False, allow_infinity=False)
)
SURROGATES = st.sampled_from(["\ud800", "\udfff", "\ud83d\ude00", "\ud83d", "a\udc00b"])
TEXT = st.text(max_size=30)  # any code point but surrogates: controls, RTL marks, U+FFFF, emoji
WITH_SURROGATE = st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), SURROGATES, st.text(max_size=5))
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
# Past the text limit, and sometimes past the body limit (a repeated unit is cheap to make).
LONG_TEXT = st.builds(
    lambda head, unit, n: head + unit * n,
    st.sampled_from(["鲜味坊吃出虫子", "", "鲜味坊小区"]),
    st.sampled_from(["虫", "a", "😀", "\u0000", "\\", '"', "\ud800", "鲜味坊"]),
    st.sampled_from([POST_TEXT_MAX_CHARS - 8, POST_TEXT_MAX_CHARS + 1, 60_000, 400_000]),
)
POST_TEXT = weighted(
    (16, st.builds(lambda t: "鲜味坊" + t, TEXT)),  # matches the watch: queued
    (2, TEXT),
    (3, LONG_TEXT),
    (1, st.builds(lambda t: "鲜味坊" + t, WITH_SURROGATE)),
)
COUNT = weighted((12, st.integers(min_value=0, max_value=10**6)), (3, HUGE), (1, JUNK))


def _maybe(valid: st.SearchStrategy, weight: int = 15) -> st.SearchStrategy:
    """Mostly a valid value, sometimes (1 in weight + 1) anything."""
    return weighted((weight, valid), (1, JUNK))


def _with_extras(fields: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Fields sometimes dropped, sometimes joined by unknown ones."""
    return st.builds(
        lambda d, drop, extra: {k: v for k, v in d.items() if k not in drop} | extra,
        fields,
        weighted(
            (15, st.just(set())),
            (1, st.sets(st.sampled_from(["post_id", "author", "text", "id"]), max_size=1)),
        ),
        weighted((15, st.just({})), (1, st.dictionaries(TEXT, JUNK, min_size=1, max_size=2))),
    )


RECENT = st.builds(lambda minutes: (utcnow() - timedelta(minutes=minutes)).isoformat(), st.integers(0, 10**6))
CREATED = weighted(
    (14, RECENT),
    (
        1,
        st.sampled_from(
            ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30", "now", "", 1e20]
        ),
    ),
    (1, JUNK),
)
AUTHOR = _maybe(
    _with_extras(
        st.fixed_dictionaries(
            {
                "id": _maybe(st.text(min_size=1, max_size=300)),
                "name": _maybe(st.text(max_size=300)),
                "followers": COUNT,
                "verified_type": _maybe(st.sampled_from([-1, 0, 3, 220])),
            }
        )
    )
)
ENGAGEMENT = weighted(
    (
        30,
        _maybe(st.fixed_dictionaries({"reposts": COUNT, "comments": COUNT, "likes": COUNT, "views": COUNT})),
    ),
    (1, st.just(DEEP)),  # nesting as deep as a body can hold, or deeper
)
POST = _with_extras(
    st.fixed_dictionaries(
        {
            "post_id": _maybe(st.text(min_size=1, max_size=140)),
            "url": _maybe(st.text(max_size=40)),
            "author": AUTHOR,
            "text": _maybe(POST_TEXT),
            "created_at": CREATED,
            "engagement": ENGAGEMENT,
        },
        optional={"repost_of": _maybe(st.text(max_size=140))},
    )
)
POSTS = weighted(
    (12, st.lists(POST, max_size=2)),
    (2, st.lists(POST, min_size=3, max_size=8)),
    # The most posts, and one more (texts short: 100 copies of an 800,000-character one are no test).
    (1, st.builds(
        lambda p, n: [p | {"text": str(p.get("text"))[:100]}] * n,
        POST,
        st.sampled_from([PUSH_MAX_POSTS, PUSH_MAX_POSTS + 1]),
    )),
    (1, JUNK),
)  # fmt: skip
BATCH = _with_extras(
    st.fixed_dictionaries(
        {
            "watch_id": _maybe(st.sampled_from(["xianweifang"] * 8 + ["someone-else", ""])),
            "platform": _maybe(st.sampled_from(["weibo"] * 8 + ["bilibili", "douyin"])),
            "posts": POSTS,
        }
    )
)


def _serialize(value: Any, ensure_ascii: bool, depth: int, deep_kind: str) -> bytes:
    text = json.dumps(value, ensure_ascii=ensure_ascii)  # NaN and Infinity come out as bare words
    if DEEP in text:
        nested = "[" * depth + "]" * depth if deep_kind == "list" else '{"a":' * depth + "1" + "}" * depth
        text = text.replace(f'"{DEEP}"', nested, 1)
    return text.encode("utf-8", errors="surrogatepass")  # a lone surrogate: invalid UTF-8


JSON_BODY = st.builds(
    _serialize,
    weighted((12, BATCH), (1, JUNK)),
    st.booleans(),
    st.sampled_from([2, 100, 1_000, 10_000, 200_000]),  # jiter refuses beyond its recursion limit
    st.sampled_from(["list", "object"]),
)
BODY = weighted(
    (40, JSON_BODY),
    (
        1,
        st.builds(lambda b, cut: b[: max(1, len(b) * cut // 100)], JSON_BODY, st.integers(1, 99)),
    ),  # cut short
    (1, st.binary(max_size=64)),
    (1, st.sampled_from([b"", b"null", b"[]", b"1e999", b'"x"', b"\xef\xbb\xbf{}", b"{" * 100_000])),
)


# -- the test -----------------------------------------------------------------------------------


def _push(aws, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST /push as API Gateway hands it over: text when the body is UTF-8, base64 when not."""
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event = {
        "resource": "/push",
        "path": "/push",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", **headers},
        "body": text,
        "isBase64Encoded": encoded,
        "requestContext": {"resourcePath": "/push", "httpMethod": "POST", "requestId": str(uuid.uuid4())},
    }
    response = aws.invoke("crisiswatch.handlers.push", event)
    return response["statusCode"], json.loads(response["body"])


def test_signed_push_bodies_get_a_documented_4xx_or_202_never_a_5xx(aws, secret, monkeypatch):  # noqa: F811
    # moto's SendMessage counts the whole queue (quadratic over the run): the queue is purged as it
    # fills, which moto, like SQS, allows once a minute unless told otherwise.
    monkeypatch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
    sqs, posts_queue = aws.client("sqs"), os.environ[Env.POSTS_QUEUE_URL]
    statuses: Counter[str] = Counter()
    seconds_by_status: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    sizes: list[int] = []
    queued = [0]  # posts queued since the queue was last emptied

    @settings(settings.get_profile("push-fuzz"))
    @given(body=BODY)
    def case(body: bytes) -> None:
        sizes.append(len(body))
        started = time.perf_counter()
        try:
            status, payload = _push(aws, body, _signed(secret, body))
        except Exception as e:  # on Lambda: a 502 from API Gateway
            statuses[f"exception {type(e).__name__}"] += 1
            raise
        statuses[str(status)] += 1
        seconds_by_status[str(status)] += time.perf_counter() - started
        assert status in DOCUMENTED, (status, payload)
        if status == 202:
            assert set(payload) == {"accepted", "dropped"}
            queued[0] += payload["accepted"]
            if queued[0] > 500:
                sqs.purge_queue(QueueUrl=posts_queue)
                queued[0] = 0
        else:
            assert isinstance(payload["message"], str) and payload["message"], payload
            reasons[f"{status} {re.sub(r'[0-9]+', 'N', payload['message'])}"] += 1
        if len(body) > PUSH_MAX_BODY_BYTES:
            assert status == 413

    started = time.perf_counter()
    try:
        case()
    finally:
        seconds = round(time.perf_counter() - started, 1)
        report = {
            "cases": sum(statuses.values()),
            "seconds": seconds,
            "statuses": dict(sorted(statuses.items())),
            "reasons": dict(reasons.most_common()),
            "ms_per_case": {
                k: round(1000 * v / statuses[k], 1) for k, v in sorted(seconds_by_status.items())
            },
            "bodies_over_the_limit": sum(size > PUSH_MAX_BODY_BYTES for size in sizes),
            "largest_body_bytes": max(sizes, default=0),
            "profile": "push-fuzz (derandomize=True)",
            "command": "PYTHONHASHSEED=0 PYTHONPATH=functions:. pytest tests/integration/test_push_fuzz.py -q -s",
        }
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n")
        print("\npush fuzz:", json.dumps(report))
    if EXAMPLES >= 1000:  # a full run reaches every documented answer (a short one may not)
        assert {"202", "400", "413", "422"} <= set(statuses)


SCORED_EXAMPLES = int(os.environ.get("PUSH_FUZZ_SCORED_EXAMPLES", "200"))
# Batches for the watch with posts in them (random posts: many are refused, the rest queued).
WITH_POSTS = st.builds(
    lambda posts, ensure_ascii: _serialize(
        {"watch_id": "xianweifang", "platform": "weibo", "posts": posts}, ensure_ascii, 2, "list"
    ),
    st.lists(POST, min_size=1, max_size=4),
    st.booleans(),
)


def test_what_a_push_accepts_is_scored_and_stored_not_dead_lettered(aws, secret):  # noqa: F811
    """Issue 11: a 202 must not end in the DLQ. The accepted batches of a smaller run go through
    the real scorer too; every one of their posts is stored, none fails."""
    accepted = []

    @settings(settings.get_profile("push-fuzz"), max_examples=SCORED_EXAMPLES)
    @given(body=WITH_POSTS)
    def case(body: bytes) -> None:
        status, payload = _push(aws, body, _signed(secret, body))
        assert status in DOCUMENTED
        if status == 202:
            accepted.append(payload["accepted"])

    case()
    scored = aws.pump(aws.mapping_for("crisiswatch.handlers.scorer"))
    print(f"\npush fuzz, then scored: {SCORED_EXAMPLES} batches, {sum(accepted)} posts accepted, {scored}")
    assert sum(accepted) > 10  # the run did queue posts (how many varies with the hash seed: 48-65 seen)
    assert scored == {"delivered": sum(accepted), "failed": 0}
    assert queue_depth(aws, dlq_url(aws, os.environ[Env.POSTS_QUEUE_URL])) == 0
