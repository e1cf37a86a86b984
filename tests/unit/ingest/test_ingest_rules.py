"""Watch rules: the expression language, folding, explanations, errors, the watch and CLI edges."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.ingest.matching import excluded, matches
from crisiswatch.rules import (
    MAX_DEPTH,
    And,
    Match,
    Node,
    Not,
    Or,
    RuleSyntaxError,
    Term,
    default_rule,
    fold,
    parse_rule,
    render,
    rule_for,
)
from crisiswatch.vocabulary import FetchJob, Watch
from tools.cli import build_parser


def hit(rule: str, text: str) -> Match:
    return parse_rule(rule).match(text)


# ------------------------------------------------------------------------------------ examples


@pytest.mark.parametrize(
    ("rule", "text", "matched", "terms"),
    [
        ("鲜味坊", "今天去鲜味坊吃饭", True, ["鲜味坊"]),
        ("鲜味坊 吃出虫子", "在鲜味坊的面里吃出虫子了", True, ["鲜味坊", "吃出虫子"]),
        ("鲜味坊 吃出虫子", "鲜味坊真好吃", False, []),
        ("XWF 投诉", "xwf被投诉", True, ["XWF", "投诉"]),  # mixed scripts, case
        # Traditional rule, Simplified text, and the other way round.
        ("鮮味坊 AND 投訴", "鲜味坊被投诉了", True, ["鮮味坊", "投訴"]),
        ("鲜味坊 AND 投诉", "鮮味坊被投訴了", True, ["鲜味坊", "投诉"]),
        ("头发", "湯裡有頭髮", True, ["头发"]),
        ("乾", "乾隆", True, ["乾"]),  # folded alike alone and in context
        # Full-width letters, digits, parentheses, bar and space.
        ("ＸＷＦ （投诉｜退款）", "xwf 退款", True, ["ＸＷＦ", "退款"]),
        ("３１５ 曝光", "315晚会曝光", True, ["３１５", "曝光"]),
        ("xwf", "ＸＷＦ\u3000真难吃", True, ["xwf"]),
        # Quoted phrases: spaces and operator words inside.
        ('"fresh taste" 差评', "Fresh   Taste 差评", True, ["fresh taste", "差评"]),
        ('"fresh taste"', "fresh and taste", False, []),
        ('"A OR B"', "a or b", True, ["A OR B"]),
        ('"A OR B"', "a", False, []),
        ("「鲜味坊 小区」", "鲜味坊 小区停水", True, ["鲜味坊 小区"]),
        ("“鲜味坊(总店)”", "鲜味坊（总店）", True, ["鲜味坊(总店)"]),
        # OR reports every alternative that hits; terms are not repeated.
        ("鲜味坊 OR XWF OR 鲜味", "鲜味坊 xwf", True, ["鲜味坊", "XWF", "鲜味"]),
        ("鲜味坊 | XWF", "xwf", True, ["XWF"]),
        ("鲜味坊 (鲜味坊 OR 投诉)", "鲜味坊投诉", True, ["鲜味坊", "投诉"]),
        # NOT: excludes, and never explains.
        ("鲜味坊 NOT 小区", "鲜味坊小区停水", False, []),
        ("鲜味坊 NOT 小区", "鲜味坊好吃", True, ["鲜味坊"]),
        ("鲜味坊 NOT (小区 OR 广告)", "鲜味坊 广告", False, []),
        ("鲜味坊 NOT NOT 投诉", "鲜味坊投诉", True, ["鲜味坊"]),
        ("NOT 广告", "随便什么", True, []),
        # Precedence NOT > AND > OR; operators in any case and width.
        ("a OR b c", "a", True, ["a"]),
        ("a OR b c", "b", False, []),
        ("(a OR b) c", "a", False, []),
        ("a or b AND c", "bc", True, ["b", "c"]),
        ("a ＡＮＤ b", "ab", True, ["a", "b"]),
        ("Not a b", "b", True, ["b"]),
        # Characters that are not operators stay in the term.
        ("H&M T-shirt", "h&m t-shirt", True, ["H&M", "T-shirt"]),
        ("鲜味坊AND投诉", "鲜味坊AND投诉", True, ["鲜味坊AND投诉"]),
    ],
)
def test_match_examples(rule: str, text: str, matched: bool, terms: list[str]) -> None:
    assert hit(rule, text) == Match(matched, terms)


@pytest.mark.parametrize(
    ("rule", "tree"),
    [
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("NOT a b", And((Not(Term("a")), Term("b")))),
        ("a NOT b", And((Term("a"), Not(Term("b"))))),
        ("NOT (a OR b)", Not(Or((Term("a"), Term("b"))))),
        ("a AND b c", And((Term("a"), Term("b"), Term("c")))),
        ("(a b) c", And((And((Term("a"), Term("b"))), Term("c")))),
        ("((a))", Term("a")),
        ('a "b c"', And((Term("a"), Term("b c")))),
        ('" padded "', Term("padded")),
    ],
)
def test_precedence_and_grouping(rule: str, tree: Node) -> None:
    assert parse_rule(rule).root == tree


def test_canonical_text() -> None:
    rule = parse_rule('（鲜味坊｜xwf） 投诉 not "鲜味坊 小区"')
    assert str(rule) == '(鲜味坊 OR xwf) AND 投诉 AND NOT "鲜味坊 小区"'
    assert render(Term("OR")) == '"OR"'
    assert render(Term('say "hi"')) == '“say "hi"”'


@pytest.mark.parametrize(
    ("rule", "message", "position"),
    [
        ("", "empty rule", 0),
        ("   ", "empty rule", 0),
        ("(鲜味坊 OR XWF", "parenthesis is never closed", 0),
        ("鲜味坊 (投诉 (退款)", "parenthesis is never closed", 4),
        ("鲜味坊 )", "closing parenthesis without an opening one", 4),
        ("鲜味坊 ()", "empty parentheses", 4),
        ("鲜味坊 AND", "AND at the end", 4),
        ("鲜味坊 NOT", "NOT at the end", 4),
        ("(鲜味坊 OR)", "OR before ')'", 5),
        ("OR 鲜味坊", "OR has nothing before it", 0),
        ("(AND 鲜味坊)", "AND has nothing before it", 1),
        ("鲜味坊 OR AND 投诉", "AND right after OR", 7),
        ("鲜味坊 || 投诉", "| right after |", 5),
        ('鲜味坊 ""', "empty quotes", 4),
        ("鲜味坊 「 」", "empty quotes", 4),
        ('鲜味坊 "投诉', "quote is never closed", 4),
        ("鲜味坊 “投诉", "quote is never closed", 4),
        ("鲜味坊」", "closing quote 」 without an opening one", 3),
        ("鲜味坊\x07", "unexpected control character U+0007", 3),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "nested more than", MAX_DEPTH),
        ("NOT " * (MAX_DEPTH + 1) + "a", "nested more than", 4 * MAX_DEPTH),
    ],
)
def test_errors_point_at_the_problem(rule: str, message: str, position: int) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(rule)
    assert message in caught.value.message
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)


def test_error_text_has_a_caret_under_the_problem() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("鲜味坊 AND (投诉 OR")
    # Chinese characters are two columns wide on a terminal: the caret counts them twice.
    assert str(caught.value) == (
        "OR at the end: nothing follows it (at character 13)\n  鲜味坊 AND (投诉 OR\n                   ^"
    )
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("a\tAND")
    assert str(caught.value).splitlines()[1:] == ["  a AND", "    ^"]


def test_fold() -> None:
    assert fold("ＡＢＣ１２３＃") == "abc123#"
    assert fold("  鮮味坊\u3000被  投訴 ") == fold("鲜味坊 被 投诉") == "鲜味坊 被 投诉"


# ----------------------------------------------------------------------------- watch and fetch


@pytest.fixture
def watch() -> Watch:
    return Watch(
        id="w",
        name="鲜味坊",
        keywords=["鲜味坊", "XWF", " "],
        exclude=["鲜味坊小区", "广告"],
        rules={"douyin": "鲜味坊 (投诉 OR 退款)"},
    )


def test_default_rule_is_built_from_keywords_and_exclusions(watch: Watch) -> None:
    rule = rule_for(watch, "weibo")
    assert rule == default_rule(["鲜味坊", "XWF"], ["鲜味坊小区", "广告"])
    assert str(rule) == "(鲜味坊 OR XWF) AND NOT (鲜味坊小区 OR 广告)"
    assert rule_for(watch) == rule  # no platform: the default rule
    assert rule.match("鮮味坊也叫ｘｗｆ") == Match(True, ["鲜味坊", "XWF"])
    assert not rule.match("鲜味坊小區停水").matched
    assert rule.excludes("廣告") and not rule.excludes("鲜味坊")


def test_default_rule_takes_words_literally() -> None:
    rule = default_rule(['Tom "&" Jerry', "OR", "(x"], ["NOT"])
    assert rule.match('tom "&" jerry or (x').terms == ['Tom "&" Jerry', "OR", "(x"]
    assert not rule.match("or not").matched
    assert not default_rule([" ", ""]).match("anything").matched


def test_platform_rule_replaces_the_default(watch: Watch) -> None:
    rule = rule_for(watch, "douyin")
    assert rule == parse_rule("鲜味坊 (投诉 OR 退款)")
    assert matches(watch, "鲜味坊广告 退款", "douyin") == ["鲜味坊", "退款"]
    assert matches(watch, "鲜味坊广告 退款") == []  # default rule: 广告 excludes
    assert matches(watch, "xwf 投诉", "douyin") == []
    assert not excluded(watch, "鲜味坊小区", "douyin") and excluded(watch, "鲜味坊小区")


def test_watch_rejects_an_invalid_rule_with_the_parser_message() -> None:
    with pytest.raises(ValidationError) as caught:
        Watch(id="w", name="x", keywords=["鲜味坊"], rules={"weibo": "鲜味坊 NOT"})
    assert "rules['weibo']: NOT at the end: nothing follows it" in str(caught.value)
    assert "  鲜味坊 NOT\n         ^" in str(caught.value)
    assert Watch(id="w", name="x", keywords=["鲜味坊"], rules={"weibo": "鲜味坊 NOT 小区"}).rules


class OnePageClient:
    """Serves the same first page for every keyword; later pages are empty."""

    def __init__(self, page: dict[str, Any]) -> None:
        self.page = page

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        if parse_qs(urlsplit(url).query)["page"] == ["1"]:
            return self.page
        return {"ok": 0, "data": {"cards": []}}


def test_fetch_posts_applies_the_platform_rule_and_records_matched_terms(
    make_mblog: Callable[..., dict[str, Any]], make_page: Callable[..., dict[str, Any]], now: datetime
) -> None:
    watch = Watch(id="w", name="x", keywords=["鲜味坊"], rules={"weibo": "(鲜味坊 OR XWF) 投诉 NOT 小区"})
    original = make_mblog("鮮味坊被投訴了", id="1")
    page = make_page(
        original,
        make_mblog("鲜味坊好吃", id="2"),
        make_mblog("转发微博", id="3", retweeted_status=original),
        make_mblog("小区转发", id="4", retweeted_status=original),
        next_page=None,
    )
    result = fetch_posts(
        FetchJob(watch=watch, platform="weibo", scheduled_at=now), "http://x", OnePageClient(page), now
    )
    assert [(p.post_id, p.matched_terms) for p in result.posts] == [
        ("1", ["鲜味坊", "投诉"]),
        ("3", ["鲜味坊", "投诉"]),
    ]
    assert result.terms == {"weibo#1": ["鲜味坊", "投诉"], "weibo#3": ["鲜味坊", "投诉"]}
    assert result.dropped == 2


# -------------------------------------------------------------------------------------------- CLI


def run_cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_cli_rules_match(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(
        [
            "rules",
            "match",
            "--rule",
            '(鲜味坊 OR XWF) 投诉 NOT "鲜味坊 小区"',
            "--text",
            "鮮味坊被投訴，ＸＷＦ",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out == '{"matched": true, "terms": ["鲜味坊", "XWF", "投诉"]}\n'
    assert run_cli(["rules", "match", "--rule", "a NOT b", "--text", "ab"]) == 0
    assert json.loads(capsys.readouterr().out) == {"matched": False, "terms": []}


def test_cli_rejects_an_invalid_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["rules", "match", "--rule", "(鲜味坊", "--text", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "invalid rule: parenthesis is never closed (at character 1)\n  (鲜味坊\n  ^\n"


# ------------------------------------------------------------------------------------ properties

CJK = "鲜味坊吃出虫子投诉退款变质食品安全曝光拉肚道歉发头面后里干了复只台湾什么于历划画钟系鮮蟲訴變質頭髮麵後裡裏幹乾瞭複覆隻臺灣麼於歷劃畫鐘係"
ASCII = "abcXYZ019&-_#.@"
TERM_CHARS = CJK + ASCII + "ＡＢｘ１（）"
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))} | {" ": "\u3000"}


def _renderable(text: str) -> bool:
    try:
        render(Term(text))
    except ValueError:
        return False
    return True


term_texts = (
    st.text(alphabet=TERM_CHARS + ' "|「」', min_size=1, max_size=6)
    .map(str.strip)
    .filter(lambda t: bool(t) and _renderable(t))
)
words = st.sampled_from(["and", "OR", "Not", "(", ")", "｜"])  # must come back quoted
terms = st.one_of(term_texts, words).map(Term)


def _tree(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(many.map(And), many.map(Or), children.map(Not))


trees = st.recursive(terms, _tree, max_leaves=8)
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(trees)
def test_parse_of_render_is_the_tree(tree: Node) -> None:
    assert parse_rule(render(tree)).root == tree


filler = st.text(alphabet=CJK + ASCII + " ，！\n", max_size=8)


@st.composite
def rule_and_text(draw: st.DrawFn) -> tuple[Node, str]:
    """A rule, and a text built from its terms (so that matches happen) and filler."""
    tree = draw(trees)
    pieces = [t.text for t in _leaves(tree)]
    chosen = draw(st.lists(st.sampled_from(pieces), max_size=4))
    parts = [draw(filler)]
    for piece in chosen:
        parts += [piece, draw(filler)]
    return tree, "".join(parts)


def _leaves(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return _leaves(node.child)
    return [leaf for child in node.children for leaf in _leaves(child)]


@FAST
@given(rule_and_text(), st.data())
def test_matching_ignores_full_and_half_width(case: tuple[Node, str], data: st.DataObject) -> None:
    tree, text = case
    widen = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    wide = "".join(FULL_WIDTH.get(c, c) if w else c for c, w in zip(text, widen, strict=True))
    rule = parse_rule(render(tree))
    assert rule.match(wide) == rule.match(text)


CONVERSIONS = ("s2t", "t2s", "s2tw", "tw2s", "s2hk", "hk2s")


@cache
def _opencc(config: str) -> Any:
    from opencc import OpenCC

    return OpenCC(config)


@settings(max_examples=50, deadline=None)  # six OpenCC conversions per example
@given(rule_and_text())
def test_matching_ignores_traditional_and_simplified(case: tuple[Node, str]) -> None:
    tree, text = case
    rule = parse_rule(render(tree))
    expected = rule.match(text)
    for config in CONVERSIONS:
        assert rule.match(_opencc(config).convert(text)) == expected, config


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=12))
def test_fold_is_the_same_for_opencc_conversions_of_any_chinese(text: str) -> None:
    for config in CONVERSIONS:
        assert fold(_opencc(config).convert(text)) == fold(text), config


@FAST
@given(st.lists(term_texts, min_size=1, max_size=4), filler, st.randoms(use_true_random=False))
def test_a_text_with_every_term_of_an_and_rule_matches(texts: list[str], glue: str, random: Any) -> None:
    rule = parse_rule(" AND ".join(render(Term(t)) for t in texts))
    shuffled = texts[:]
    random.shuffle(shuffled)
    found = rule.match(glue.join(shuffled))
    assert found.matched
    assert found.terms == list(dict.fromkeys(texts))


garbage_alphabet = st.sampled_from(
    list('()（）|｜"＂“”「」『』\t\n\x00 ')
    + ["AND", "or", "NOT", "ａｎｄ", " ", "鲜味坊", "a", "\u0301", "\u200b"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(garbage_alphabet, max_size=20).map("".join)))
def test_any_text_parses_or_raises_a_rule_syntax_error(expression: str) -> None:
    try:
        rule = parse_rule(expression)
    except RuleSyntaxError as e:
        assert 0 <= e.position <= len(expression)
        assert str(e)
        return
    assert parse_rule(str(rule)) == rule  # what parses has a canonical text that reads back
    rule.match(expression)


@FAST
@given(st.text(max_size=40))
def test_match_never_raises(text: str) -> None:
    assume(text)
    assert isinstance(parse_rule("鲜味坊 OR NOT xwf").match(text).matched, bool)
