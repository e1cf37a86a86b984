"""Chat bots, the pure parts: signatures, splitting by bytes, request bodies, the gate's windows."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.escalation.chat import (
    LIMITS,
    TRUNCATED,
    ChatBotConfig,
    build_request,
    digest_markdown,
    dingtalk_sign,
    dropped_line,
    feishu_sign,
    next_fit,
    split_by_bytes,
    text_budget,
)
from crisiswatch.vocabulary import sendable_text
from tests.builders import NOW

MARKER = re.compile(r"^\((\d+)/(\d+)\)\n")
CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT = st.text(st.one_of(CHINESE, st.sampled_from('ab \n"\\🔥é'), st.characters()), max_size=3000)


def unmarked(parts: list[str]) -> str:
    return "".join(MARKER.sub("", part, count=1) for part in parts)


def test_dingtalk_sign_is_the_url_encoded_base64_hmac_of_timestamp_and_secret():
    secret, timestamp = "SEC6f2c1b0e9d8a7", 1733100000123
    by_hand = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = dingtalk_sign(secret, timestamp)
    assert unquote_plus(sign) == base64.b64encode(by_hand).decode()
    assert "+" not in sign and "/" not in sign and "=" not in sign  # encoded for a query string
    assert dingtalk_sign("SEC-wrong", timestamp) != sign
    assert dingtalk_sign(secret, timestamp + 1) != sign


def test_feishu_sign_keys_the_hmac_with_timestamp_and_secret_over_nothing():
    secret, timestamp = "qD1fS3cr3t", 1733100000
    by_hand = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert feishu_sign(secret, timestamp) == base64.b64encode(by_hand).decode()
    assert feishu_sign("other", timestamp) != feishu_sign(secret, timestamp)


def test_a_text_within_the_limit_is_one_unmarked_part():
    assert split_by_bytes("鲜味坊\n红色预警", 4096) == ["鲜味坊\n红色预警"]


@settings(max_examples=150, deadline=None)
@given(text=TEXT, limit=st.integers(min_value=40, max_value=600), escaped=st.booleans())
def test_every_part_fits_and_the_parts_give_back_the_text(text, limit, escaped):
    parts = split_by_bytes(text, limit, json_escaped=escaped)
    for part in parts:
        size = len(json.dumps(part, ensure_ascii=False).encode()) - 2 if escaped else len(part.encode())
        assert size <= limit
    text = sendable_text(text)  # a lone surrogate goes out as U+FFFD: UTF-8 has no bytes for it
    assert unmarked(parts) == text if len(parts) > 1 else parts == [text]
    if len(parts) > 1:
        assert [MARKER.match(p).groups() for p in parts] == [
            (str(i), str(len(parts))) for i in range(1, len(parts) + 1)
        ]


def test_long_chinese_text_is_cut_between_characters_and_after_lines_where_it_can():
    lines = [f"第{i}条：鲜味坊外卖吃出虫子，客服不回应。" * 3 for i in range(300)]
    text = "\n".join(lines)
    parts = split_by_bytes(text, 4000)
    assert all(len(part.encode()) <= 4000 for part in parts)
    assert unmarked(parts) == text
    assert all(MARKER.sub("", part).endswith("\n") for part in parts[:-1])  # whole lines each
    one_line = "鲜" * 10_000
    parts = split_by_bytes(one_line, 4096)
    assert unmarked(parts) == one_line and len(parts) == 8


def test_beyond_max_parts_the_last_part_says_it_was_cut():
    parts = split_by_bytes("风险" * 10_000, 1000, max_parts=3)
    assert len(parts) == 3 and parts[-1].endswith(TRUNCATED)
    assert all(len(part.encode()) <= 1000 for part in parts)


def test_a_limit_too_small_for_any_part_is_refused():
    with pytest.raises(ValueError):
        split_by_bytes("x" * 100, 12)  # the marker "(99/99)\n" and one character do not fit
    with pytest.raises(ValueError):
        split_by_bytes("x" * 100, 40, max_parts=2)  # nor does the truncation mark


def secrets_for(kind: str) -> dict[str, str]:
    return {"key": "k/1", "access_token": "tok", "token": "hook-1", "secret": "SEC1"}


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_each_request_is_the_platforms_shape_and_fits_its_limit(kind):
    bot = ChatBotConfig(name="ops", kind=kind, base_url="http://127.0.0.1:1/")
    title = "【红色预警】鲜味坊：食品安全"
    markdown = split_by_bytes("吃出虫子\n" * 20_000, text_budget(bot, title), json_escaped=kind == "feishu")[
        0
    ]
    url, body = build_request(bot, secrets_for(kind), title, markdown, NOW)
    message = json.loads(body)
    query = parse_qs(urlsplit(url).query)
    if kind == "wecom":
        assert url.startswith("http://127.0.0.1:1/cgi-bin/webhook/send?key=k%2F1")
        assert message == {"msgtype": "markdown", "markdown": {"content": f"### {title}\n{markdown}"}}
        assert len(message["markdown"]["content"].encode()) <= 4096
    elif kind == "dingtalk":
        timestamp = int(NOW.timestamp() * 1000)
        assert query["timestamp"] == [str(timestamp)] and query["access_token"] == ["tok"]
        assert query["sign"] == [unquote_plus(dingtalk_sign("SEC1", timestamp))]
        assert message["msgtype"] == "markdown" and message["markdown"]["title"] == title
        assert len(message["markdown"]["text"].encode()) <= LIMITS["dingtalk"].max_bytes
    else:
        assert url == "http://127.0.0.1:1/open-apis/bot/v2/hook/hook-1"
        assert message["timestamp"] == str(int(NOW.timestamp()))
        assert message["sign"] == feishu_sign("SEC1", int(NOW.timestamp()))
        assert message["msg_type"] == "interactive"
        assert message["card"]["header"]["title"]["content"] == title
        assert message["card"]["elements"][0]["text"] == {"tag": "lark_md", "content": markdown}
        assert len(body) <= 20 * 1024


def test_a_digest_counts_every_alert_the_dropped_ones_too():
    title, markdown = digest_markdown(["🔴 鲜味坊 红色", "🟠 鲜味坊 橙色", dropped_line(12)], NOW)
    assert "14 条" in title
    assert markdown.splitlines()[1:] == ["- 🔴 鲜味坊 红色", "- 🟠 鲜味坊 橙色", "- …及另外 12 条"]


def test_next_fit_waits_for_the_window_that_is_full():
    feishu = LIMITS["feishu"]
    burst = [NOW] * 5
    assert next_fit(burst, NOW, feishu, 1) == NOW + timedelta(seconds=1)
    minute = [NOW + timedelta(seconds=i * 0.5) for i in range(100)]
    assert next_fit(minute, NOW + timedelta(seconds=50), feishu, 2) == NOW + timedelta(seconds=60.5)
    assert next_fit([], NOW, feishu, 5) is None
    with pytest.raises(ValueError):
        next_fit([], NOW, feishu, 6)
