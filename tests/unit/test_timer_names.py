"""The pure parts of the EventBridge Scheduler timers: schedule names and `at(...)` expressions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crisiswatch.aws.timers import SCHEDULE_NAME_MAX, at_expression, parse_at, schedule_name

VALID = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


@pytest.mark.parametrize(
    "name",
    [
        "inc-1#first_statement#reminder",
        "chat/wecom#pr-duty",
        "鲜味坊#digest",
        "鲜味坊",
        "#/#",
        "x" * 500,
        "a.b_c-d",
    ],
)
def test_every_name_maps_to_a_valid_schedule_name_and_always_the_same(name):
    mapped = schedule_name(name)
    assert VALID.match(mapped) and len(mapped) <= SCHEDULE_NAME_MAX
    assert schedule_name(name) == mapped


def test_the_schedule_name_stays_readable():
    assert schedule_name("inc-1#first_statement#reminder").startswith("inc-1-first_statement-reminder-")


def test_names_that_read_alike_stay_distinct():
    names = ["a#b", "a/b", "a-b", "a b", "x" * 100 + "1", "x" * 100 + "2", "鲜味坊", "鲜味", ""]
    assert len({schedule_name(n) for n in names}) == len(names)


def test_at_expressions_are_utc_to_the_second_and_read_back():
    moment = datetime(2026, 11, 21, 10, 30, 15, 999_000, tzinfo=timezone(timedelta(hours=8)))
    assert at_expression(moment) == "at(2026-11-21T02:30:15)"
    assert parse_at("at(2026-11-21T02:30:15)") == datetime(2026, 11, 21, 2, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["rate(5 minutes)", "cron(0 9 * * ? *)", "at(2026-11-21 02:30)", ""])
def test_only_one_time_expressions_parse(expression):
    with pytest.raises(ValueError):
        parse_at(expression)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        at_expression(datetime(2026, 11, 21, 2, 30))
