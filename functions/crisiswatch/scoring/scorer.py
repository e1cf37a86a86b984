"""The scorer: a post in, a :class:`~crisiswatch.vocabulary.Score` out.

``Scorer(...)`` is cheap: the jieba dictionary, the sentiment model and the lexicon are loaded on
the first score and cached for the life of the process (a Lambda container), shared by every
``Scorer``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from crisiswatch.scoring import features, lexicon, risk, segment, sentiment
from crisiswatch.scoring.normalize import Normalized, normalize, to_simplified
from crisiswatch.vocabulary import Author, Engagement, Post, Score

# How many of the words that pushed the sentiment are named in the reasons.
TOP_WORDS = 3


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
        model = self.model
        norm = normalize(text)
        tokens = features.tokens(norm, model.features)
        negative = model.bayes.negative(tokens)
        categories = self.lexicon.match(norm.text)
        severity = self.lexicon.severity(categories)
        brands, subject = self._subject(norm)
        f = risk.factors(negative, severity, engagement, author, subject, self.weights)
        reasons = self._reasons(norm, tokens, negative, categories, brands, subject, author, engagement)
        return Analysis(norm, tokens, negative, categories, brands, subject, f, reasons)

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

    def _reasons(
        self,
        norm: Normalized,
        tokens: list[str],
        negative: float,
        categories: dict[str, list[str]],
        brands: list[str],
        subject: float,
        author: Author | None,
        engagement: Engagement | None,
    ) -> list[str]:
        reasons: list[str] = []
        if not tokens:
            reasons.append(f"negative {negative:.2f} (no words to score)")
        else:
            # Name the words that pushed toward the verdict (negative words when negative).
            sign = 1.0 if negative >= 0.5 else -1.0
            pushes = sorted(self.model.bayes.contributions(tokens), key=lambda tv: -sign * tv[1])
            words = list(dict.fromkeys(t for t, v in pushes if sign * v > 0))[:TOP_WORDS]
            detail = f" ({', '.join(_readable(w) for w in words)})" if words else ""
            reasons.append(f"negative {negative:.2f}{detail}")
        for cid, words in categories.items():
            reasons.append(f"{self.lexicon.categories[cid].label}: {', '.join(words)}")
        who = risk.author_reason(author)
        if who:
            reasons.append(who)
        eng = risk.engagement_reason(engagement)
        if eng:
            reasons.append(eng)
        if self.brand_terms:
            if subject == 1.0:
                reasons.append(f"brand is the subject: {', '.join(brands)}")
            elif brands:
                reasons.append(f"brand only in the quoted repost: {', '.join(brands)}")
            else:
                reasons.append("brand not mentioned")
        if not norm.own and norm.chain:
            reasons.append("bare repost: scored the quoted words")
        return reasons


def _normalize_term(term: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", term.strip()).lower())


def _readable(token: str) -> str:
    return "不" + token[len(features.NOT) :] if token.startswith(features.NOT) else token
