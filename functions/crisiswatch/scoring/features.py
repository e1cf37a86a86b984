"""From normalized text to the tokens the naive-Bayes model counts.

Naive Bayes scores each word on its own, so "不好吃" (not tasty) would count as evidence for
"好吃" (tasty). We rewrite the word a negator governs into a negated token (``不好吃`` ->
``NOT_好吃``), which the model learns as a separate word; a second negator inside the scope
cancels the first ("不是不好"). Intensifiers ("很", "太", "一点也不") repeat the word they govern,
so "太难吃了" counts 难吃 twice. Weibo emoticons (``[怒]``) and emoji are tokens of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crisiswatch.scoring import segment
from crisiswatch.scoring.normalize import Normalized

NEGATORS = frozenset(
    [
        "不",
        "没",
        "没有",
        "别",
        "无",
        "未",
        "非",
        "莫",
        "勿",
        "甭",
        "不是",
        "并不",
        "并非",
        "并没有",
        "从不",
        "从没",
        "从未",
        "从来不",
        "从来没",
        "从来没有",
        "绝不",
        "决不",
        "毫不",
        "毫无",
        "不会",
        "不能",
        "不要",
        "不用",
        "不必",
        "没法",
        "无法",
        "不再",
        "再也不",
        "再也没",
        "不太",
        "不怎么",
        "不算",
        "不够",
        "一点也不",
        "一点都不",
        "一点儿也不",
        "根本不",
        "根本没",
        "完全不",
        "完全没",
        "永远不",
    ]
)
INTENSIFIERS = frozenset(
    [
        "很",
        "太",
        "超",
        "超级",
        "非常",
        "特别",
        "十分",
        "极",
        "极其",
        "极度",
        "极为",
        "格外",
        "分外",
        "尤其",
        "相当",
        "实在",
        "真",
        "真的",
        "好",
        "巨",
        "贼",
        "挺",
        "最",
        "更",
        "更加",
        "越来越",
        "太过",
        "过于",
        "万分",
        "无比",
        "彻底",
        "完全",
        "简直",
        "根本",
        "异常",
    ]
)
# Tokens that end a negation's scope.
_BOUNDARY = frozenset(",，。.!！?？;；:：、~～…\n\"“”'‘’()（）【】")
_KEEP_PUNCT = frozenset("!?")
_NUMBER = re.compile(r"^[0-9.,%]+$")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
NOT = "NOT_"


@dataclass(frozen=True)
class FeatureConfig:
    """How tokens are made; stored with the model so training and serving agree."""

    negation: bool = True
    negation_scope: int = 1  # content tokens a negator governs
    intensifiers: bool = True
    emoticons: bool = True
    emoticon_weight: int = 1  # an emoticon counts this many times
    bigrams: bool = False
    hmm: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "negation": self.negation,
            "negation_scope": self.negation_scope,
            "intensifiers": self.intensifiers,
            "emoticons": self.emoticons,
            "emoticon_weight": self.emoticon_weight,
            "bigrams": self.bigrams,
            "hmm": self.hmm,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeatureConfig:
        known = {k: data[k] for k in cls().to_dict() if k in data}
        return cls(**known)  # type: ignore[arg-type]


_SKIP, _STOP, _MARK, _NEG, _NEG_EMPHATIC, _INTENSIFIER, _WORD = range(7)
_EMPHATIC = ("一点", "根本", "完全", "绝", "毫")
_kinds: dict[str, tuple[int, str]] = {}


def _kind(token: str) -> tuple[int, str]:
    """What a jieba token is to the rules below (cached: the same tokens come back all day)."""
    hit = _kinds.get(token)
    if hit is not None:
        return hit
    word = token.strip()
    if not word:
        kind = (_SKIP, word)
    elif word in _BOUNDARY or not _WORDLIKE.search(word):
        kind = (_MARK if word in _KEEP_PUNCT else _STOP, word)
    elif word in NEGATORS:
        kind = (_NEG_EMPHATIC if word.startswith(_EMPHATIC) else _NEG, word)
    elif word in INTENSIFIERS:
        kind = (_INTENSIFIER, word)
    else:
        kind = (_WORD, "<NUM>" if _NUMBER.match(word) else word)
    if len(_kinds) > 500_000:
        _kinds.clear()
    _kinds[token] = kind
    return kind


def words(tokens: list[str], config: FeatureConfig) -> list[str]:
    """Apply negation and intensifier rules to jieba tokens; drop spaces and most punctuation."""
    out: list[str] = []
    append = out.append
    negate = 0  # content tokens still under a negator
    boost = False
    negation, intensifiers, scope = config.negation, config.intensifiers, config.negation_scope
    for token in tokens:
        kind, word = _kinds.get(token) or _kind(token)
        if (kind in (_NEG, _NEG_EMPHATIC) and not negation) or (kind == _INTENSIFIER and not intensifiers):
            kind = _WORD  # a negator or intensifier with its rule switched off: an ordinary word
        if kind == _WORD:
            if negate:
                word = NOT + word
                negate -= 1
            append(word)
            if boost:
                append(word)
                boost = False
        elif kind == _SKIP:
            continue
        elif kind in (_STOP, _MARK):
            negate, boost = 0, False
            if kind == _MARK:
                append(word)
        elif kind in (_NEG, _NEG_EMPHATIC):
            negate = 0 if negate else scope
            append(word)
            if intensifiers and kind == _NEG_EMPHATIC:
                boost = True
        elif kind == _INTENSIFIER:
            boost = True
            append(word)
    if config.bigrams:
        plain = [t for t in out if t not in _KEEP_PUNCT]
        out.extend(f"{a}|{b}" for a, b in zip(plain, plain[1:], strict=False))
    return out


def tokens(normalized: Normalized, config: FeatureConfig, dict_file: object = segment.DICT_FILE) -> list[str]:
    """The model's tokens for a post: the author's own words (or, for a bare repost, the chain)."""
    text = normalized.own
    emoticons = normalized.emoticons
    if not text and not emoticons:
        text, emoticons = normalized.chain, normalized.chain_emoticons
    out = words(segment.cut(text, hmm=config.hmm, dict_file=dict_file), config)  # type: ignore[arg-type]
    if config.emoticons:
        for emoticon in emoticons:
            out.extend([emoticon] * config.emoticon_weight)
    return out
