import pytest

from crisiswatch.incidents.policy import (
    DEFAULT_RULES,
    InvalidThresholds,
    WindowStats,
    decide_level,
    rules_from_overrides,
)
from crisiswatch.vocabulary import Level


def stats(mentions: int, negatives: int, high_risk: int = 0) -> WindowStats:
    return WindowStats(mentions=mentions, negatives=negatives, high_risk=high_risk, risk_sum=0.0, reach=0)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (stats(0, 0), None),
        (stats(50, 2), None),  # a couple of complaints in ordinary chatter
        (stats(10, 3), Level.BLUE),
        (stats(20, 10), Level.YELLOW),
        (stats(40, 25, high_risk=3), Level.ORANGE),
        (stats(40, 25, high_risk=1), Level.YELLOW),  # volume without influential posts stays yellow
        (stats(90, 60, high_risk=10), Level.RED),
        (stats(400, 60, high_risk=10), Level.BLUE),  # 15%: a big positive buzz with some complaints
    ],
)
def test_levels_follow_volume_share_and_risk(window, expected):
    assert decide_level(window).level == expected


def test_reason_quotes_the_numbers_against_the_thresholds():
    decision = decide_level(stats(90, 62, high_risk=12))
    assert decision.reason == (
        "red: 62 negative of 90 posts (>= 60); negative share 69% (>= 60%); 12 high-risk posts (>= 5)"
    )


def test_below_every_level_still_explains_why():
    assert decide_level(stats(5, 1)).reason.startswith("below blue: 1 negative of 5 posts")


def test_empty_window_has_no_division_by_zero():
    assert stats(0, 0).negative_share == 0.0
    assert stats(0, 0).mean_risk == 0.0


def test_overrides_replace_single_thresholds():
    rules = rules_from_overrides({"red": {"min_negatives": 200}})
    assert decide_level(stats(90, 62, high_risk=12), rules).level == Level.ORANGE
    assert [r.level for r in rules] == [r.level for r in DEFAULT_RULES]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"purple": {"min_negatives": 1}}, "unknown level 'purple'"), ({"red": {"min_posts": 1}}, "min_posts")],
)
def test_bad_overrides_are_rejected_with_the_reason(overrides, message):
    with pytest.raises(InvalidThresholds, match=message):
        rules_from_overrides(overrides)


def test_level_order_and_tiers():
    assert Level.BLUE < Level.YELLOW < Level.ORANGE < Level.RED
    assert Level.ORANGE.next_up() == Level.RED
    assert Level.RED.next_up() is None
