from datetime import timedelta

from crisiswatch.incidents.detection import assess, escalation_input, execution_name, merge_top_posts
from crisiswatch.incidents.policy import WindowStats
from crisiswatch.vocabulary import Level
from tests.builders import NOW, incident, top_post, watch

QUIET = WindowStats(mentions=30, negatives=1)
YELLOW = WindowStats(mentions=20, negatives=10)
RED = WindowStats(mentions=90, negatives=62, high_risk=12)


def test_no_incident_while_below_every_level():
    assert assess(None, watch(), QUIET, [top_post()], NOW) is None


def test_opens_at_the_level_the_numbers_reach_with_history_and_reason():
    opened = assess(None, watch(), YELLOW, [top_post()], NOW)
    assert opened.incident_id == "xianweifang-20261121-0230"
    assert opened.level == Level.YELLOW
    assert opened.level_reason.startswith("yellow: 10 negative of 20 posts")
    assert [h.level for h in opened.history] == [Level.YELLOW]
    assert opened.deadlines is None  # the statement clocks start at orange
    assert opened.needs_escalation


def test_rising_to_red_records_history_and_starts_the_clocks():
    later = NOW + timedelta(minutes=10)
    raised = assess(incident(level=Level.YELLOW, escalated_level=Level.YELLOW), watch(), RED, [], later)
    assert raised.level == Level.RED
    assert [h.level for h in raised.history] == [Level.YELLOW, Level.RED]
    assert raised.deadlines.first_statement == later + timedelta(minutes=30)
    assert raised.deadlines.detailed_statement == later + timedelta(hours=2)
    assert raised.deadlines.progress_report == later + timedelta(days=1)
    assert raised.needs_escalation


def test_levels_do_not_fall_while_open():
    current = incident(level=Level.RED, escalated_level=Level.RED)
    calmer = assess(current, watch(), YELLOW, [], NOW + timedelta(hours=1))
    assert calmer.level == Level.RED
    assert calmer.stats.negatives == 10  # the numbers are still current
    assert not calmer.needs_escalation


def test_a_rise_above_the_acknowledged_level_reopens():
    acked = incident(level=Level.ORANGE, status="acknowledged", escalated_level=Level.ORANGE)
    assert assess(acked, watch(), RED, [], NOW).status == "open"


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
    assert payload["current"] == {"tier": "orange", "timeout_seconds": 1800}
    assert payload["timeouts"] == {"yellow": 7200, "orange": 1800, "red": 600}
    assert escalation_input(incident(level=Level.BLUE), {"yellow": 1, "orange": 1, "red": 1})["current"] == {
        "tier": "blue",
        "timeout_seconds": 0,
    }
