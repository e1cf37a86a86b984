"""Keyword matching: OR over keywords, exclusion wins, width- and case-insensitive."""

from __future__ import annotations

import pytest

from crisiswatch.ingest.matching import excluded, fold, matches
from crisiswatch.vocabulary import Watch


@pytest.fixture
def watch() -> Watch:
    return Watch(
        id="w", name="鲜味坊", keywords=["鲜味坊", "XWF", "Fresh Taste"], exclude=["鲜味坊小区", "广告"]
    )


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("今天去鲜味坊吃饭", ["鲜味坊"]),
        ("下班去xwf", ["XWF"]),
        ("下班去ＸＷＦ", ["XWF"]),  # full-width
        ("下班去ｘｗｆ", ["XWF"]),  # full-width lower case
        ("FRESH TASTE is great", ["Fresh Taste"]),
        ("鲜味坊也叫XWF", ["鲜味坊", "XWF"]),
        ("海鲜味道一般", []),
        ("", []),
    ],
)
def test_keywords(watch: Watch, text: str, hits: list[str]) -> None:
    assert matches(watch, text) == hits


@pytest.mark.parametrize("text", ["鲜味坊小区停水了", "鲜味坊 广告 XWF", "鲜味坊小區".replace("區", "区")])
def test_an_exclusion_word_means_no_match(watch: Watch, text: str) -> None:
    assert matches(watch, text) == []
    assert excluded(watch, text)


def test_exclusions_are_folded_too() -> None:
    watch = Watch(id="w", name="x", keywords=["鲜味坊"], exclude=["ＰＲ稿"])
    assert matches(watch, "鲜味坊 pr稿") == []


def test_blank_terms_are_ignored() -> None:
    watch = Watch(id="w", name="x", keywords=["  ", "鲜味坊"], exclude=[""])
    assert matches(watch, "任何文字") == []
    assert matches(watch, "鲜味坊") == ["鲜味坊"]


def test_fold() -> None:
    assert fold("ＡＢＣ１２３＃") == "abc123#"
