import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.scoring import Scorer, segment
from crisiswatch.vocabulary import Score


def test_score_returns_model_with_reasons(scorer, post):
    p = post(
        "鲜味坊的鸡肉变质了，吃完拉肚子[怒]",
        followers=1_200_000,
        verified_type=3,
        reposts=1200,
        comments=356,
        likes=2100,
    )
    score = scorer.score(p)
    assert isinstance(score, Score)
    assert score.categories["food_safety"] == ["变质", "拉肚子"]
    assert score.reasons[0].startswith("negative ")
    assert "food safety: 变质, 拉肚子" in score.reasons
    assert "1.2M followers, verified media" in score.reasons
    assert "1.2K reposts, 356 comments, 2.1K likes" in score.reasons
    assert "brand is the subject: 鲜味坊" in score.reasons


def test_brand_term_stays_one_token(scorer):
    analysis = scorer.analyse("鲜味坊出新品了")
    assert "鲜味坊" in analysis.tokens


def test_brand_only_in_chain_or_absent_lowers_risk(scorer):
    own = scorer.analyse("鲜味坊的饭菜变质了,太恶心")
    quoted = scorer.analyse("太恶心 //@某人:鲜味坊的饭菜变质了")
    absent = scorer.analyse("饭菜变质了,太恶心")
    assert own.subject == 1.0 and quoted.subject < 1.0 and absent.subject < quoted.subject
    assert "brand not mentioned" in absent.reasons


def test_more_reach_more_risk(scorer, post):
    quiet = scorer.score(post("鲜味坊的饭菜变质了"))
    loud = scorer.score(post("鲜味坊的饭菜变质了", followers=2_000_000, verified_type=3, reposts=9000))
    assert loud.risk > quiet.risk
    assert loud.negative == quiet.negative


@pytest.mark.parametrize("text", ["", "   ", "[doge]", "😭😭😭", "[泪][泪]", "转发微博", "。。。", "a", "好"])
def test_degenerate_posts_score_cleanly(scorer, text):
    score = scorer.score_text(text)
    assert 0 <= score.negative <= 1 and 0 <= score.risk <= 1
    assert score.reasons


def test_traditional_post_scores_like_simplified(scorer):
    trad = scorer.analyse("這家店的食物變質了，吃完拉肚子")
    simp = scorer.analyse("这家店的食物变质了，吃完拉肚子")
    assert trad.tokens == simp.tokens
    assert trad.negative == simp.negative
    assert trad.categories == simp.categories


def test_traditional_brand_term_matches(scorer):
    assert Scorer(brand_terms=["鮮味坊"]).brand_terms == ("鲜味坊",)


def test_very_long_post(scorer):
    text = "鲜味坊的服务态度太差了，等了一个小时还没上菜。" * 2000
    score = scorer.score_text(text)
    assert 0 <= score.negative <= 1
    assert "service_complaint" in score.categories


def test_scorer_is_cheap_and_shares_models():
    a, b = Scorer(brand_terms=["品牌甲"]), Scorer()
    assert a.model is b.model and a.lexicon is b.lexicon


def test_added_terms_are_remembered():
    Scorer(brand_terms=["奇异果乐园"]).score_text("奇异果乐园")
    assert "奇异果乐园" in segment.cut("我去了奇异果乐园")


def test_score_json_roundtrip(scorer):
    score = scorer.score_text("手机漏电还爆炸了")
    assert Score.model_validate_json(score.model_dump_json()) == score
    json.dumps(score.model_dump(), ensure_ascii=False)


def test_bare_repost_scores_what_it_quotes(scorer):
    analysis = scorer.analyse("转发微博//@某媒体:鲜味坊门店发生火灾，三人受伤")
    assert analysis.tokens and analysis.subject == 1.0
    assert analysis.categories == {"safety_accident": ["火灾", "受伤"]}
    assert "bare repost: scored the quoted words" in analysis.reasons


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_scores_within_bounds(text):
    score = Scorer(brand_terms=["鲜味坊"]).score_text(text)
    assert 0 <= score.negative <= 1 and 0 <= score.risk <= 1 and score.reasons
