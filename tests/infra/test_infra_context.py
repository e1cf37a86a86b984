"""Bad CDK context fails synth with a message that names the key and the entry; good context from
the command line (strings) is decoded."""

from __future__ import annotations

import json

import pytest

from crisiswatch import constants, limits
from infra.app import build_app, cdk_json_context
from infra.context import ContextError, load_settings

SMS = {"name": "pr-duty", "protocol": "sms", "endpoint": "+8613800000000", "levels": ["orange", "red"]}


def settings(**context):
    return load_settings(context.get)


def test_unknown_level_in_subscribers_fails_build_with_a_clear_message():
    bad = [SMS, {**SMS, "name": "boss", "levels": ["red", "purple"]}]
    with pytest.raises(ContextError) as e:
        build_app(context={"subscribers": bad}, skip_bundling=True)
    message = str(e.value)
    assert "'subscribers'" in message and "subscribers[1] (boss).levels.1" in message
    assert "purple" in message and "'orange'" in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({**SMS, "protocol": "pigeon"}, "protocol"),
        ({**SMS, "endpoint": "13800000000"}, "E.164"),
        ({**SMS, "protocol": "email"}, "e-mail address"),
        ({**SMS, "levels": []}, "levels"),
        ({**SMS, "extra": 1}, "extra"),
    ],
)
def test_bad_subscriber_entries(entry, expected):
    with pytest.raises(ContextError, match=expected):
        settings(subscribers=[entry])


def test_duplicate_subscriber_names():
    with pytest.raises(ContextError, match="duplicate"):
        settings(subscribers=[SMS, SMS])


def test_bad_watch_fails_with_its_index():
    with pytest.raises(ContextError, match=r"watches\[0\] \(Brand X\)\.id: .*got 'Bad Id'"):
        settings(watches=[{"id": "Bad Id", "name": "Brand X", "keywords": ["x"]}])


def test_watches_over_the_limits_fail_synth():
    with pytest.raises(ContextError, match=r"watches\[0\] \(Brand X\)\.rules\.tiktok"):
        settings(watches=[{"id": "x", "name": "Brand X", "keywords": ["x"], "rules": {"tiktok": "x"}}])
    too_many = [{"id": f"w{i}", "name": "x", "keywords": ["x"]} for i in range(limits.MAX_WATCHES + 1)]
    with pytest.raises(ContextError, match="at most 1,000"):
        settings(watches=too_many)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("schedules", {"weibo": 0}, "between 1 and 1440"),
        ("schedules", {"Weibo!": 2}, "platform name"),
        ("ackTimeoutSeconds", {"yellow": 1, "orange": 1}, "red"),
        ("levelThresholds", {"purple": {"min_negatives": 1}}, "levelThresholds"),
        ("weiboBaseUrl", "m.weibo.cn", "http"),
        ("logLevel", "LOUD", "logLevel"),
        ("logLevel", {"scorer": "LOUD"}, "scorer must be one of"),
        ("logLevel", '{"scorr": "INFO"}', r"unknown function\(s\) \['scorr'\]"),
        ("tracing", {"fetcher": "always"}, "fetcher must be one of"),
        ("systemLogLevel", "ERROR", "systemLogLevel"),
        ("subscribers", "[not json", "must be JSON"),
    ],
)
def test_other_bad_context(key, value, expected):
    with pytest.raises(ContextError, match=expected):
        settings(**{key: value})


def test_cli_strings_are_decoded_and_defaults_come_from_config():
    s = settings(subscribers=json.dumps([SMS]), schedules='{"weibo": 5}')
    assert s.subscribers[0].level_values == ["orange", "red"]
    assert s.schedules == {"weibo": 5}
    assert settings().schedules == constants.DEFAULT_SCHEDULES_MINUTES
    assert settings().ack_timeout_seconds.model_dump() == constants.DEFAULT_ACK_TIMEOUT_SECONDS
    assert settings().base_urls["weibo"] == constants.DEFAULT_BASE_URLS["weibo"]


def test_log_levels_and_tracing_are_per_function_with_a_default():
    assert set(settings().log_levels.values()) == {"INFO"}
    levels = settings(logLevel='{"default": "warning", "notifier": "DEBUG"}').log_levels
    assert levels["notifier"] == "DEBUG" and levels["scorer"] == "WARNING"
    assert settings(logLevel="ERROR").log_levels["api"] == "ERROR"
    assert settings().tracing == constants.TRACING
    assert settings(tracing={"scorer": "active"}).tracing["scorer"] == "active"
    assert settings(tracing={"default": "passthrough"}).tracing["api"] == "passthrough"
    assert set(settings().system_log_levels.values()) == {"WARN"}
    assert settings(systemLogLevel='{"scorer": "info"}').system_log_levels["scorer"] == "INFO"


def test_cdk_json_example_context_is_valid_and_fake():
    s = load_settings(cdk_json_context().get)
    assert s.watches and s.subscribers
    assert all(sub.is_placeholder for sub in s.subscribers)  # no real person's number in the repo


def test_environment_defaults_and_context_override(app_and_stack):
    _, stack = app_and_stack
    assert (stack.account, stack.region) == (constants.DEFAULT_ACCOUNT, constants.DEFAULT_REGION)
    _, other = build_app(context={"account": "123456789012", "region": "eu-west-1"}, skip_bundling=True)
    assert (other.account, other.region) == ("123456789012", "eu-west-1")
