"""Issue 11's API cases through the real Lambda handler on moto: every malformed or oversized
request is a 4xx with its reason, and nothing a caller sends stops monitoring for the others."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from crisiswatch import limits
from crisiswatch.aws.items import to_value
from crisiswatch.aws.watches import WATCHES_PK, watch_item
from crisiswatch.constants import Env
from crisiswatch.vocabulary import Watch
from tests.builders import NOW, incident
from tests.integration.helpers import stores

NEW = {"id": "geek-coffee", "name": "极客咖啡", "keywords": ["极客咖啡"], "rules": {"weibo": "极客咖啡"}}
ACK = "/incidents/xianweifang-20261121-0230/ack"


def reason(answer) -> str:
    return json.dumps(answer, ensure_ascii=False)


def assert_refused(aws, method, path, body, status, *words):
    got, answer = aws.api(method, path, body=body)
    assert got == status, (got, reason(answer)[:300])
    assert "message" in answer, answer
    for word in words:
        assert word in reason(answer), (word, reason(answer)[:300])


def test_json_nested_1000_deep_is_a_422_not_a_recursion_error(aws):
    deep = "[" * 1000 + "]" * 1000  # 2 KB
    assert_refused(aws, "POST", "/watches", deep, 422, f"deeper than {limits.JSON_MAX_DEPTH}")
    inside = json.dumps(NEW)[:-1] + ', "oncall": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
    assert_refused(aws, "POST", "/watches", inside, 422, "deeper than")
    stores()[1].create(incident())
    assert_refused(aws, "POST", ACK, '{"by": ' + "[" * 1000 + "]" * 1000 + "}", 422, "deeper than")
    # Brackets inside strings are text, not nesting.
    assert aws.api("POST", "/watches", body=NEW | {"name": "[" * 90})[0] == 201


def test_a_watch_larger_than_dynamodbs_item_is_a_413(aws):
    keywords = ["极客咖啡" * 3 + f"{i:05d}" for i in range(12_000)]
    body = json.dumps(NEW | {"keywords": keywords}, ensure_ascii=False)  # 400 KB and more stored too
    assert len(body.encode()) > 400 * 1024 > limits.WATCH_BODY_MAX_BYTES
    assert_refused(aws, "POST", "/watches", body, 413, f"at most {limits.WATCH_BODY_MAX_BYTES:,}")
    assert_refused(aws, "PUT", "/watches/xianweifang", body, 413, "bytes")
    stores()[1].create(incident())
    assert_refused(aws, "POST", ACK, {"by": "王" * 20_000}, 413, f"{limits.API_BODY_MAX_BYTES:,}")


def test_12000_keywords_are_refused_and_monitoring_goes_on(aws):
    many = NEW | {"keywords": [f"k{i}" for i in range(12_000)]}  # under the body limit: the count refuses it
    for watch_id in ("a1", "a2", "a3"):
        assert_refused(
            aws,
            "POST",
            "/watches",
            many | {"id": watch_id},
            422,
            "body.keywords",
            f"{limits.WATCH_MAX_KEYWORDS}",
        )
    assert aws.tick("weibo") == [{"platform": "weibo", "jobs": 1}]  # the seeded watch still runs


def test_a_lone_surrogate_is_a_422_naming_the_field(aws):
    for field, value, where in [
        ("name", "极客\ud800", "body.name"),
        ("keywords", ["ok", "\ud800"], "body.keywords.1"),
    ]:
        escaped = json.dumps(NEW | {field: value})  # "\ud800" as an escape
        raw = json.dumps(NEW | {field: value}, ensure_ascii=False)  # the code point itself
        assert "\\ud800" in escaped and "\ud800" in raw
        for body in (escaped, raw):
            assert_refused(aws, "POST", "/watches", body, 422, where, "surrogate")
    stores()[1].create(incident())
    assert_refused(aws, "POST", ACK, '{"by": "\\udfff"}', 422, "body.by", "surrogate")
    assert_refused(aws, "POST", ACK, '{"\\ud800": "x"}', 422, "surrogate")
    assert aws.api("POST", ACK, body='{"by": "\\ud83d\\ude00"}')[0] == 200  # a pair is one character


@pytest.mark.parametrize("key", ["", "tiktok", "Weibo"])
def test_rules_keys_are_platforms(aws, key):
    assert_refused(
        aws, "POST", "/watches", NEW | {"rules": {key: "极客咖啡"}}, 422, "body.rules", "'xiaohongshu'"
    )
    assert aws.api("GET", "/watches")[0] == 200


def test_platforms_are_known_and_named_once(aws):
    assert_refused(
        aws, "POST", "/watches", NEW | {"platforms": ["weibo", "myspace"]}, 422, "body.platforms.1"
    )
    assert_refused(aws, "POST", "/watches", NEW | {"platforms": ["weibo", "weibo"]}, 422, "named twice")
    assert aws.api("POST", "/watches", body=NEW | {"platforms": ["weibo", "douyin", "news"]})[0] == 201


def test_each_watch_limit_is_a_422_with_the_field(aws):
    cases = [
        ({"name": "名" * (limits.WATCH_NAME_MAX_CHARS + 1)}, "body.name"),
        ({"keywords": ["词" * (limits.KEYWORD_MAX_CHARS + 1)]}, "body.keywords.0"),
        ({"exclude": ["x"] * (limits.WATCH_MAX_EXCLUDE + 1)}, "body.exclude"),
        ({"exclude": ["x" * (limits.EXCLUDE_MAX_CHARS + 1)]}, "body.exclude.0"),
        ({"brand_terms": ["x"] * (limits.WATCH_MAX_BRAND_TERMS + 1)}, "body.brand_terms"),
        ({"brand_terms": ["x" * (limits.BRAND_TERM_MAX_CHARS + 1)]}, "body.brand_terms.0"),
        ({"rules": {"weibo": "词" * (limits.RULE_MAX_CHARS + 1)}}, "body.rules.weibo"),
        ({"oncall": {"tiers": {"red": {"notify": ["pr-duty"] * 21}}}}, "body.oncall.tiers.red.notify"),
        ({"oncall": {"tiers": {"red": {"ack_timeout_seconds": 86_401}}}}, "ack_timeout_seconds"),
        ({"oncall": {"tiers": {"red": {"ack_timeout_seconds": 10**30}}}}, "number of 31 characters"),
        ({"oncall": {"tiers": {"red": {"ack_timeout_seconds": "1e400"}}}}, "ack_timeout_seconds"),
    ]
    for change, where in cases:
        assert_refused(aws, "POST", "/watches", NEW | change, 422, where)
    assert_refused(aws, "POST", "/watches", json.dumps(NEW)[:-1] + ', "x": 1e400}', 422, "beyond the range")
    assert_refused(aws, "POST", "/watches", json.dumps(NEW)[:-1] + ', "x": NaN}', 422, "NaN")


def test_a_watch_over_64_kb_as_stored_is_a_422(aws):
    big = NEW | {
        "keywords": ["词" * limits.KEYWORD_MAX_CHARS] * limits.WATCH_MAX_KEYWORDS,
        "exclude": ["排" * limits.EXCLUDE_MAX_CHARS] * limits.WATCH_MAX_EXCLUDE,
        "brand_terms": ["牌" * limits.BRAND_TERM_MAX_CHARS] * limits.WATCH_MAX_BRAND_TERMS,
        "platforms": ["weibo", "bilibili", "news", "douyin", "xiaohongshu"],
        "rules": {
            p: "规" * limits.RULE_MAX_CHARS for p in ("weibo", "bilibili", "news", "douyin", "xiaohongshu")
        },
        "oncall": {
            "tiers": {t: {"notify": ["n" * 40] * 20, "chat": ["c" * 40] * 20} for t in ("blue", "red")}
        },
    }
    body = json.dumps(big, ensure_ascii=False)
    assert len(body.encode()) < limits.WATCH_BODY_MAX_BYTES  # within the body limit: the item size refuses it
    assert_refused(
        aws, "POST", "/watches", body, 422, "bytes as stored", f"{limits.WATCH_MAX_STORED_BYTES:,}"
    )


def test_malformed_bodies_are_4xx_with_a_reason(aws):
    stores()[1].create(incident())
    cases = [
        ("POST", "/watches", "not json", 422, "JSON decode error"),
        ("POST", "/watches", "", 422, "body"),
        ("POST", "/watches", "[]", 422, "body"),
        ("POST", "/watches", '"a watch"', 422, "body"),
        ("POST", "/watches", "null", 422, "body"),
        ("POST", "/watches", NEW | {"keywords": "极客咖啡"}, 422, "body.keywords"),
        ("PUT", "/watches/geek-coffee", '{"id": ', 422, "JSON decode error"),
        ("POST", ACK, "{broken", 422, "JSON decode error"),
        ("POST", ACK, '{"by": 1e999999}', 422, "beyond the range"),
        ("POST", ACK, '{"by": ' + "9" * 5000 + "}", 422, "number of 5,000 characters"),
        (
            "POST",
            "/incidents/xianweifang-20261121-0230/statements",
            {"kind": "first", "by": "a", "text": "字" * 12_000},
            413,
            "bytes",
        ),
    ]
    for method, path, body, status, words in cases:
        assert_refused(aws, method, path, body, status, words)


def test_a_body_that_is_not_json_is_a_415(aws):
    for content_type in ("text/plain", "application/xml"):
        status, answer = aws.api("POST", "/watches", body="id=x", headers={"Content-Type": content_type})
        assert status == 415 and content_type in answer["message"], answer
    for content_type, body in [
        ("application/x-www-form-urlencoded", "id=x&name=y"),
        (
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Disposition: form-data; name=id\r\n\r\nx\r\n--b--",
        ),
        ("multipart/form-data", "garbage"),  # no boundary
        ("multipart/form-data; boundary=b", "--b\r\n\r\n极客咖啡\r\n--b--"),  # beyond Latin-1
    ]:
        status, answer = aws.api("POST", "/watches", body=body, headers={"Content-Type": content_type})
        assert 400 <= status < 500 and "message" in answer, (content_type, status, answer)


def _put_directly(items: list[dict]) -> None:
    client, table = boto3.client("dynamodb"), os.environ[Env.STATE_TABLE]
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def test_the_1001st_watch_is_a_409(aws):
    seeded = aws.api("GET", "/watches")[1]["watches"]
    template = Watch.model_validate(NEW)
    _put_directly(
        [
            watch_item(template.model_copy(update={"id": f"w{i:04d}"}), NOW.isoformat())
            for i in range(limits.MAX_WATCHES - len(seeded))
        ]
    )
    assert_refused(aws, "POST", "/watches", NEW, 409, f"{limits.MAX_WATCHES:,} watches", "delete one first")
    assert aws.api("DELETE", "/watches/w0000")[0] == 204
    assert aws.api("POST", "/watches", body=NEW)[0] == 201
    assert len(aws.api("GET", "/watches")[1]["watches"]) == limits.MAX_WATCHES


def test_an_unreadable_stored_watch_does_not_break_the_list_nor_the_scheduler(aws):
    bad = watch_item(Watch.model_validate(NEW | {"id": "bad"}), NOW.isoformat())
    bad["watch"] = to_value(NEW | {"id": "bad", "rules": {"tiktok": "k"}})  # valid before the limits
    assert bad["pk"] == to_value(WATCHES_PK)
    _put_directly([bad])

    status, body = aws.api("GET", "/watches")
    assert (status, [w["id"] for w in body["watches"]]) == (200, ["xianweifang"])
    assert aws.tick("weibo") == [{"platform": "weibo", "jobs": 1}]
    assert_refused(aws, "GET", "/watches/bad", None, 409, "'bad'", "rules", "DELETE it")
    assert aws.api("PUT", "/watches/bad", body=NEW | {"id": "bad"})[0] == 200  # repaired
    assert [w["id"] for w in aws.api("GET", "/watches")[1]["watches"]] == ["bad", "xianweifang"]
