"""normalize reads ``{%...%}`` with a linear scan: the same results as the regex it replaced, and
the right result on adversarial text at the largest post size (issue 11, item 3)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.scoring import normalize as module
from crisiswatch.scoring.normalize import normalize
from tools.scoring.adversarial import MAX_TEXT_CHARS, TEXTS

_OLD_MARKUP = re.compile(r"\{%(.*?)%\}", re.DOTALL)


def old_replace_markup(text: str) -> str:
    return _OLD_MARKUP.sub(lambda m: module._markup(m.group(1)), text)


# Short texts made mostly of the characters that matter to the markup, plus some ordinary ones.
markup_text = st.text(alphabet=st.sampled_from(list("{%}# \n网页链接北京abc的视频")), max_size=40)


@settings(max_examples=800, deadline=None)
@given(markup_text)
def test_markup_scan_equals_the_old_regex(text: str) -> None:
    assert module._replace_markup(text) == old_replace_markup(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_markup_scan_equals_the_old_regex_on_any_text(text: str) -> None:
    assert module._replace_markup(text) == old_replace_markup(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{%#周末#%}好", " #周末# 好"),
        ("{%网页链接%}", " "),
        ("a{%b", "a{%b"),
        ("{%}", "{%}"),
        ("{%%}", " "),
        ("{%a%}%}", " a %}"),
        ("{%{%a%}", " {%a "),
        ("{%a%}{%b", " a {%b"),
    ],
)
def test_markup_cases(text: str, expected: str) -> None:
    assert module._replace_markup(text) == expected == old_replace_markup(text)


def test_repeated_unclosed_markup_at_the_maximum_size() -> None:
    text = TEXTS["repeated {%"](MAX_TEXT_CHARS)
    n = normalize(text)
    assert n.own == ("{%" * (MAX_TEXT_CHARS // 2)).lower()
    closed = normalize("{%鲜味坊%}" + text + "{%变质%}")
    # The first opening of the run pairs with the last closing, as with the regex.
    assert closed.own == "鲜味坊 " + "{%" * (MAX_TEXT_CHARS // 2) + "变质"


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_adversarial_text_normalizes(name: str) -> None:
    text = TEXTS[name](MAX_TEXT_CHARS)
    assert len(text) <= MAX_TEXT_CHARS
    n = normalize(text)
    assert len(n.own) + len(n.chain) <= len(text) + 2  # nothing is added but separating spaces


def test_adversarial_outcomes() -> None:
    assert normalize(TEXTS["one character"](MAX_TEXT_CHARS)).own == "哈哈哈"
    assert normalize(TEXTS["whitespace run"](MAX_TEXT_CHARS)).own == "x"
    assert normalize(TEXTS["many URLs"](MAX_TEXT_CHARS)).own == ""
    assert normalize(TEXTS["many @mentions"](MAX_TEXT_CHARS)).own == ""
    assert normalize(TEXTS["nested brackets"](MAX_TEXT_CHARS)).own == "((()))"
