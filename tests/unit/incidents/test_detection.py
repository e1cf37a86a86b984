from datetime import timedelta

from crisiswatch.incidents.detection import (
    QUIET_RESOLVE_MINUTES,
    assess,
    escalation_input,
    execution_name,
    incident_id_for,
    merge_top_posts,
    quiet_resolution,
)
from crisiswatch.vocabulary import Level
from tests.builders import NOW, incident, top_post, watch
from tests.unit.incidents.test_levels import evidence, story

QUIET = evidence(14, story(3, 1))
YELLOW = evidence(45, story(35, 14))
RED = evidence(240, story(230, 150, influential=4))
CALM = evidence(12, story(2, 0), story_in_hour=0)  # the story has gone quiet


def test_no_incident_while_below_every_level():
    assert assess(None, watch(), "s-1", QUIET, [top_post()], NOW) is None


def test_opens_at_the_level_the_numbers_reach_with_history_and_reason():
    opened = assess(None, watch(), "s-1", YELLOW, [top_post()], NOW)
    assert opened.incident_id == incident_id_for(watch(), "s-1", NOW)
    assert opened.incident_id.startswith("xianweifang-20261121-0230-")
    assert (opened.story_id, opened.level, opened.last_active_at) == ("s-1", Level.YELLOW, NOW)
    assert opened.level_reason.startswith("黄色: 过去")
    assert [h.level for h in opened.history] == [Level.YELLOW]
    assert (opened.stats.mentions, opened.stats.negatives, opened.stats.burst_minutes) == (35, 14, 60)
    assert opened.deadlines is None  # the statement clocks start at orange
    assert opened.needs_escalation


def test_two_stories_of_one_watch_opening_in_the_same_minute_get_their_own_ids():
    assert incident_id_for(watch(), "s-1", NOW) != incident_id_for(watch(), "s-2", NOW)


def test_rising_to_red_records_history_and_starts_the_clocks():
    later = NOW + timedelta(minutes=10)
    raised = assess(incident(level=Level.YELLOW, escalated_level=Level.YELLOW), watch(), "", RED, [], later)
    assert raised.level == Level.RED
    assert [h.level for h in raised.history] == [Level.YELLOW, Level.RED]
    assert raised.deadlines.first_statement == later + timedelta(minutes=30)
    assert raised.deadlines.detailed_statement == later + timedelta(hours=2)
    assert raised.deadlines.progress_report == later + timedelta(days=1)
    assert raised.needs_escalation


def test_levels_do_not_fall_while_open():
    current = incident(level=Level.RED, escalated_level=Level.RED)
    calmer = assess(current, watch(), "", YELLOW, [], NOW + timedelta(hours=1))
    assert calmer.level == Level.RED
    assert calmer.stats.negatives == 14  # the numbers are still current
    assert not calmer.needs_escalation


def test_a_rise_above_the_acknowledged_level_reopens():
    acked = incident(level=Level.ORANGE, status="acknowledged", escalated_level=Level.ORANGE)
    assert assess(acked, watch(), "", RED, [], NOW).status == "open"


def test_a_quiet_story_keeps_its_last_busy_moment_and_resolves_after_the_quiet_time():
    opened = assess(None, watch(), "s-1", YELLOW, [], NOW)
    later = NOW + timedelta(minutes=QUIET_RESOLVE_MINUTES - 1)
    quiet = assess(opened, watch(), "s-1", CALM, [], later)
    assert quiet.last_active_at == NOW  # quiet assessments do not move it
    assert quiet_resolution(quiet, later) is None

    resolution = quiet_resolution(quiet, NOW + timedelta(minutes=QUIET_RESOLVE_MINUTES))
    assert resolution.by == "crisiswatch"
    assert resolution.reason.startswith("本话题已平静 6.0 小时")
    busy = assess(quiet, watch(), "s-1", YELLOW, [], later)
    assert busy.last_active_at == later


def test_top_posts_merge_by_key_and_keep_the_riskiest():
    merged = merge_top_posts(
        [top_post("weibo#1", 0.5), top_post("weibo#2", 0.9)],
        [top_post("weibo#1", 0.95), *[top_post(f"weibo#{i}", 0.1) for i in range(3, 9)]],
    )
    assert [p.key for p in merged][:2] == ["weibo#1", "weibo#2"]
    assert len(merged) == 5
    assert merged[0].risk == 0.95


def test_execution_name_is_deterministic_per_incident_and_level():
    name = execution_name(incident(level=Level.RED))
    assert name == "xianweifang-20261121-0230-red"
    assert len(name) <= 80


def test_escalation_input_carries_every_tier_timeout():
    payload = escalation_input(incident(level=Level.ORANGE), {"yellow": 7200, "orange": 1800, "red": 600})
    assert payload["current"] == {"tier": "orange", "timeout_seconds": 1800, "failed_from": ""}
    assert payload["timeouts"] == {"yellow": 7200, "orange": 1800, "red": 600}
    assert escalation_input(incident(level=Level.BLUE), {"yellow": 1, "orange": 1, "red": 1})["current"] == {
        "tier": "blue",
        "timeout_seconds": 0,
        "failed_from": "",
    }
    held = escalation_input(
        incident(level=Level.YELLOW), {"yellow": 7200, "orange": 1, "red": 1}, held_seconds=600
    )
    assert held["current"]["timeout_seconds"] == 7800  # quiet hours hold the alert: the wait is longer
