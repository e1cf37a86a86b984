import json

import pytest

from crisiswatch.scoring.lexicon import LEXICON_FILE, Lexicon, default_lexicon

EXPECTED = {
    "product_quality",
    "food_safety",
    "service_complaint",
    "data_leak",
    "safety_accident",
    "legal_regulatory",
    "executive_misconduct",
    "rumour",
}


def test_shipped_lexicon_is_versioned_and_complete():
    data = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    assert data["version"]
    assert set(data["categories"]) == EXPECTED
    for spec in data["categories"].values():
        assert 0 < spec["severity"] <= 1 and spec["terms"] and spec["label"]


def test_matches_terms_by_category_most_severe_first():
    hits = default_lexicon().match("面包发霉了,吃完拉肚子,客服态度差")
    assert hits == {"food_safety": ["发霉", "拉肚子"], "service_complaint": ["客服", "态度差"]}
    assert list(hits) == ["food_safety", "service_complaint"]


def test_negated_match_does_not_count():
    assert default_lexicon().match("检查过了,没有变质") == {}
    assert default_lexicon().match("确实变质了") == {"food_safety": ["变质"]}


def test_longest_term_wins():
    assert default_lexicon().match("疑似食物中毒")["food_safety"] == ["食物中毒"]


def test_context_words_need_a_real_term():
    lex = default_lexicon()
    assert lex.match("董事长今天出席了发布会") == {}
    assert lex.match("董事长涉嫌性骚扰")["executive_misconduct"] == ["性骚扰", "董事长"]


def test_severity_is_noisy_or():
    lex = Lexicon(
        {
            "categories": {
                "a": {"severity": 0.5, "terms": ["甲"]},
                "b": {"severity": 0.5, "terms": ["乙"]},
            }
        }
    )
    assert lex.severity({}) == 0
    assert lex.severity(lex.match("甲")) == pytest.approx(0.5)
    assert lex.severity(lex.match("甲乙")) == pytest.approx(0.75)


def test_bad_severity_rejected():
    with pytest.raises(ValueError):
        Lexicon({"categories": {"a": {"severity": 2, "terms": ["甲"]}}})


def test_empty_text():
    assert default_lexicon().match("") == {}
