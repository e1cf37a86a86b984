import json

import pytest

from crisiswatch.escalation.messages import main_category, render_alert, render_sms
from crisiswatch.incidents.detection import assess
from crisiswatch.vocabulary import LEVELS, Level
from tests.builders import NOW, incident, top_post, watch
from tests.unit.incidents.test_levels import evidence, story


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", ["alert", "unacknowledged"])
@pytest.mark.parametrize("name", ["鲜味坊", "一个名字非常非常非常非常非常非常非常长的品牌旗舰店官方账号"])
def test_sms_never_exceeds_70_characters(level, kind, name):
    big = incident(level=level, watch_name=name)
    big = big.model_copy(
        update={"stats": big.stats.model_copy(update={"negatives": 123456, "mentions": 999999})}
    )
    for tier in LEVELS[level.rank :]:
        assert len(render_sms(big, tier, kind)) <= 70


def test_sms_says_level_brand_topic_numbers_and_deadline():
    red = assess(None, watch(), "s-1", evidence(240, story(230, 150, influential=4)), [top_post()], NOW)
    sms = render_sms(red, Level.RED, "alert")
    assert sms.startswith("【舆情红色预警】鲜味坊：食品安全，负面150/230条")
    assert "首次声明11:00前" in sms  # 10:30 China time + 30 min
    assert len(sms) <= 70


def test_escalated_tier_says_it_was_not_acknowledged():
    sms = render_sms(incident(level=Level.ORANGE), Level.RED, "alert")
    assert sms.startswith("【橙色预警升级】") and "未获确认" in sms


def test_sns_message_has_a_text_per_protocol_and_an_ascii_subject():
    alert = render_alert(
        incident(level=Level.RED), Level.RED, "alert", console_url="https://ops.example.com/"
    )
    message = json.loads(alert.sns_message())
    assert set(message) == {"default", "sms", "email"}
    assert message["sms"] == alert.sms
    assert "POST /incidents/xianweifang-20261121-0230/ack" in message["email"]
    assert "https://ops.example.com/incidents/xianweifang-20261121-0230" in message["email"]
    assert alert.subject.isascii() and len(alert.subject) < 100
    assert alert.subject.startswith("[crisiswatch] RED alert xianweifang: food_safety")


def test_email_lists_top_posts_and_reason():
    alert = render_alert(incident(level=Level.ORANGE), Level.ORANGE, "alert")
    assert "鲜味坊的外卖吃出虫子" in alert.email
    assert "依据 Reason: orange: 30 negative of 40 posts" in alert.email


def test_main_category_weighs_by_risk():
    posts = [
        top_post("weibo#1", 0.9, {"food_safety": ["变质"]}),
        top_post("weibo#2", 0.3, {"service_complaint": ["客服"]}),
        top_post("weibo#3", 0.4, {"service_complaint": ["退款"]}),
    ]
    assert main_category(incident(top_posts=posts)) == "food_safety"
    assert main_category(incident(top_posts=[top_post(categories={})])) is None


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown alert kind"):
        render_alert(incident(), Level.RED, "shout")
