"""The level policy: surprise x the story's share of the burst x negativity x spread, explained."""

import pytest

from crisiswatch.incidents.baseline import Expected
from crisiswatch.incidents.detection import Evidence, decide_level
from crisiswatch.incidents.policy import DEFAULT_RULES, InvalidThresholds, WindowStats, rules_from_overrides
from crisiswatch.incidents.surprise import Reading, tail_surprise
from crisiswatch.vocabulary import Level

NORMAL = Expected(
    mentions_per_hour=12.0,
    negatives_per_hour=2.4,
    engagement_per_hour=30.0,
    phi=1.0,
    warm=True,
    history_hours=500,
)


def reading(minutes: int, mentions: int, negatives: int = 0, normal: Expected = NORMAL) -> Reading:
    expected = normal.mentions_per_hour * minutes / 60
    return Reading(
        minutes=minutes,
        covered_minutes=minutes,
        stats=WindowStats(mentions=mentions, negatives=negatives),
        expected_mentions=expected,
        expected_negatives=normal.negatives_per_hour * minutes / 60,
        expected_engagement=normal.engagement_per_hour * minutes / 60,
        surprise=tail_surprise(mentions, expected, normal.phi),
        negative_surprise=0.0,
    )


def evidence(
    hour_mentions: int,
    story: WindowStats,
    story_in_hour: int | None = None,
    normal: Expected = NORMAL,
) -> Evidence:
    """The watch's last 10, 30 and 60 minutes (the burst spread evenly), and one story's part."""
    readings = [reading(m, round(hour_mentions * m / 60), normal=normal) for m in (10, 30, 60)]
    in_hour = story.mentions if story_in_hour is None else story_in_hour
    parts = [WindowStats(mentions=round(in_hour * m / 60)) for m in (10, 30, 60)]
    return Evidence(readings=readings, story=story, story_in_windows=parts, normal=normal)


def story(mentions: int, negatives: int, **more) -> WindowStats:
    return WindowStats(mentions=mentions, negatives=negatives, **more)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (evidence(14, story(3, 1)), None),  # an ordinary hour
        (evidence(40, story(30, 2)), Level.BLUE),  # a burst that is not negative
        (evidence(45, story(35, 14)), Level.YELLOW),  # ... and negative
        (evidence(90, story(80, 40)), Level.ORANGE),  # a sizeable negative story
        (evidence(90, story(80, 40, influential=4)), Level.ORANGE),  # spread alone is not red
        (evidence(240, story(230, 150, influential=4)), Level.RED),  # a big negative story that has spread
        (evidence(240, story(230, 150)), Level.ORANGE),  # ... without spreading
        (evidence(240, story(230, 150, influential=4), story_in_hour=8), None),  # the burst is elsewhere
    ],
)
def test_levels_follow_surprise_story_negativity_and_spread(case, expected):
    assert decide_level(case).level == expected


def test_the_reason_quotes_the_numbers_a_pr_person_reads():
    decision = decide_level(evidence(240, story(230, 150, influential=4, engagement=1240)))
    assert decision.level == Level.RED
    assert decision.reason.startswith(
        "红色: 过去30分钟提及 120 条，平时 6 条 (20 倍)"
    )  # the most surprising window
    assert "负面 65%，平时 20%" in decision.reason
    assert "本话题近6小时 230 条" in decision.reason
    assert "4 个认证或大V账号" in decision.reason


def test_a_cold_watch_says_its_normal_is_a_conservative_floor():
    cold = Expected(6.0, 1.2, 0.0, phi=2.0, warm=False, history_hours=3)
    decision = decide_level(evidence(40, story(35, 5), normal=cold))
    assert "历史 3 小时，按保守基线" in decision.reason


def test_below_every_level_still_explains_why():
    decision = decide_level(evidence(14, story(3, 1)))
    assert decision.level is None
    assert decision.reason.startswith("未达蓝色: 过去60分钟提及 14 条，平时 12 条")


def test_overrides_replace_single_thresholds():
    rules = rules_from_overrides({"red": {"min_mentions": 500}})
    assert decide_level(evidence(240, story(230, 150, influential=4)), rules).level == Level.ORANGE
    assert [r.level for r in rules] == [r.level for r in DEFAULT_RULES]
    lifted = rules_from_overrides({"yellow": {"min_negative_lift": 0.5}})
    assert (
        decide_level(evidence(45, story(35, 14)), lifted).level == Level.BLUE
    )  # 40% is only 20 points above


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"purple": {"min_mentions": 1}}, "unknown level 'purple'"), ({"red": {"min_posts": 1}}, "min_posts")],
)
def test_bad_overrides_are_rejected_with_the_reason(overrides, message):
    with pytest.raises(InvalidThresholds, match=message):
        rules_from_overrides(overrides)


def test_empty_window_has_no_division_by_zero():
    assert WindowStats().negative_share == 0.0
    assert WindowStats().mean_risk == 0.0
