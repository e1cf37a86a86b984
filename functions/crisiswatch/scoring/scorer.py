"""The scorer: a post in, a :class:`~crisiswatch.vocabulary.Score` out.

``Scorer(...)`` is cheap: the jieba dictionary, the sentiment model and the lexicon are loaded on
the first score and cached for the life of the process (a Lambda container), shared by every
``Scorer``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from crisiswatch.scoring import features, lexicon, risk, segment, sentiment
from crisiswatch.scoring.normalize import Normalized, normalize, to_simplified
from crisiswatch.vocabulary import Author, Engagement, Post, Score

# How many of the words that pushed the sentiment are named in the reasons.
TOP_WORDS = 3
# Texts whose analysis a scorer keeps: re-fetched and repeated texts score once. Only texts up to
# TEXT_CACHE_MAX_CHARS are kept, so the cache stays within a few MB however long pushed posts are.
TEXT_CACHE, TEXT_CACHE_MAX_CHARS = 2048, 1000


@dataclass(frozen=True)
class Analysis:
    """Everything the scorer worked out about one text (``score`` keeps what the models carry)."""

    normalized: Normalized
    tokens: list[str]
    negative: float
    categories: dict[str, list[str]]
    brands: list[str]
    subject: float
    factors: risk.Factors
    reasons: list[str] = field(default_factory=list)

    @property
    def risk(self) -> float:
        return self.factors.risk

    def to_score(self) -> Score:
        return Score(
            negative=round(self.negative, 4),
            categories=self.categories,
            risk=round(self.risk, 4),
            reasons=self.reasons,
        )


class Scorer:
    """Scores posts for one watch (its brand terms); cheap to construct."""

    def __init__(
        self,
        brand_terms: Iterable[str] = (),
        *,
        model: sentiment.SentimentModel | None = None,
        crisis_lexicon: lexicon.Lexicon | None = None,
        weights: risk.RiskWeights | None = None,
    ) -> None:
        self.brand_terms = tuple(dict.fromkeys(_normalize_term(t) for t in brand_terms if t and t.strip()))
        self._model = model
        self._lexicon = crisis_lexicon
        self.weights = weights or risk.RiskWeights()
        self._ready = False
        self._analyse_text = lru_cache(maxsize=TEXT_CACHE)(self._text)

    @property
    def model(self) -> sentiment.SentimentModel:
        if self._model is None:
            self._model = sentiment.default_model()
        return self._model

    @property
    def lexicon(self) -> lexicon.Lexicon:
        if self._lexicon is None:
            self._lexicon = lexicon.default_lexicon()
        return self._lexicon

    def _prepare(self) -> None:
        if not self._ready:
            segment.add_terms(self.brand_terms)
            self._ready = True

    def score(self, post: Post) -> Score:
        return self.analyse(post.text, author=post.author, engagement=post.engagement).to_score()

    def score_text(self, text: str) -> Score:
        return self.analyse(text).to_score()

    def negative(self, text: str) -> float:
        """Probability that the text is negative (sentiment only: what ``eval sentiment`` measures)."""
        self._prepare()
        model = self.model
        return model.bayes.negative(features.tokens(normalize(text), model.features))

    def analyse(
        self, text: str, author: Author | None = None, engagement: Engagement | None = None
    ) -> Analysis:
        self._prepare()
        t = self._analyse_text(text) if len(text) <= TEXT_CACHE_MAX_CHARS else self._text(text)
        f = risk.factors(t.negative, t.severity, engagement, author, t.subject, self.weights)
        reasons = [*t.reasons_before, *_author_and_engagement(author, engagement), *t.reasons_after]
        return Analysis(t.normalized, t.tokens, t.negative, t.categories, t.brands, t.subject, f, reasons)

    def _text(self, text: str) -> _TextAnalysis:
        """What depends on the text alone (cached: a re-fetched post, a repost chain quoting the
        same words)."""
        model = self.model
        norm = normalize(text)
        tokens = features.tokens(norm, model.features)
        negative = model.bayes.negative(tokens)
        categories = self.lexicon.match(norm.text)
        brands, subject = self._subject(norm)
        before, after = self._text_reasons(norm, tokens, negative, categories, brands, subject)
        return _TextAnalysis(
            norm,
            tokens,
            negative,
            categories,
            self.lexicon.severity(categories),
            brands,
            subject,
            before,
            after,
        )

    def _subject(self, norm: Normalized) -> tuple[list[str], float]:
        if not self.brand_terms:
            return [], 1.0
        own = [b for b in self.brand_terms if b in norm.own]
        if own:
            return own, 1.0
        quoted = [b for b in self.brand_terms if b in norm.chain]
        if quoted:
            # A bare repost says nothing of its own: what it quotes is what it spreads.
            return quoted, 1.0 if not norm.own else self.weights.subject_in_chain
        return [], self.weights.subject_absent

    def _text_reasons(
        self,
        norm: Normalized,
        tokens: list[str],
        negative: float,
        categories: dict[str, list[str]],
        brands: list[str],
        subject: float,
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The reasons the text gives: those before the author's and engagement's, and those after."""
        before: list[str] = []
        if not tokens:
            before.append(f"negative {negative:.2f} (no words to score)")
        else:
            # Name the words that pushed toward the verdict (negative words when negative).
            sign = 1.0 if negative >= 0.5 else -1.0
            pushes = sorted(self.model.bayes.contributions(tokens), key=lambda tv: -sign * tv[1])
            words = list(dict.fromkeys(t for t, v in pushes if sign * v > 0))[:TOP_WORDS]
            detail = f" ({', '.join(_readable(w) for w in words)})" if words else ""
            before.append(f"negative {negative:.2f}{detail}")
        for cid, words in categories.items():
            before.append(f"{self.lexicon.categories[cid].label}: {', '.join(words)}")
        after: list[str] = []
        if self.brand_terms:
            if subject == 1.0:
                after.append(f"brand is the subject: {', '.join(brands)}")
            elif brands:
                after.append(f"brand only in the quoted repost: {', '.join(brands)}")
            else:
                after.append("brand not mentioned")
        if not norm.own and norm.chain:
            after.append("bare repost: scored the quoted words")
        return tuple(before), tuple(after)


@dataclass(frozen=True)
class _TextAnalysis:
    normalized: Normalized
    tokens: list[str]
    negative: float
    categories: dict[str, list[str]]
    severity: float
    brands: list[str]
    subject: float
    reasons_before: tuple[str, ...]
    reasons_after: tuple[str, ...]


def _author_and_engagement(author: Author | None, engagement: Engagement | None) -> list[str]:
    return [reason for reason in (risk.author_reason(author), risk.engagement_reason(engagement)) if reason]


def _normalize_term(term: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", term.strip()).lower())


def _readable(token: str) -> str:
    return "不" + token[len(features.NOT) :] if token.startswith(features.NOT) else token
