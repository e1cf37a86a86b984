"""One risk number per post, and the reasons behind it.

    risk = content x exposure x subject

- content = negative x (0.3 + 0.7 x severity): how bad the post is. ``severity`` is the noisy-or of
  the matched crisis categories' weights (0 when none matched), so a negative post with no crisis
  words still counts for 0.3 of its negativity, and a crisis word in a positive post counts little.
- exposure = 0.25 + 0.75 x noisy-or(reach, influence): how far the post can travel.
  reach = log10(1 + 3 x reposts + 2 x comments + 0.5 x likes) / 5 (100,000 weighted actions = 1);
  influence = noisy-or(followers, verified): followers = (log10(1 + followers) - 2) / 5 (100 or
  fewer = 0, 10 million = 1); verified by type: government and media 0.6, enterprise 0.5,
  websites 0.4, other organisations and big V 0.3, personal (orange V) 0.2.
- subject: 1.0 when a brand term is in the author's own words, 0.75 when it is only in the quoted
  repost chain, 0.5 when absent; 1.0 when the scorer has no brand terms.

Every factor is in [0, 1], so risk is too. All weights live in :class:`RiskWeights`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from crisiswatch.vocabulary import Author, Engagement

VERIFIED_NAMES = {
    0: "verified personal",
    1: "verified government",
    2: "verified enterprise",
    3: "verified media",
    4: "verified campus",
    5: "verified website",
    6: "verified app",
    7: "verified group",
}


def _default_verified() -> dict[int, float]:
    return {0: 0.2, 1: 0.6, 2: 0.5, 3: 0.6, 4: 0.3, 5: 0.4, 6: 0.3, 7: 0.3}


@dataclass(frozen=True)
class RiskWeights:
    content_floor: float = 0.3
    exposure_floor: float = 0.25
    repost: float = 3.0
    comment: float = 2.0
    like: float = 0.5
    reach_decades: float = 5.0  # 10**5 weighted actions saturate reach
    followers_from: float = 2.0  # log10 followers below which influence is 0 (100)
    followers_decades: float = 5.0  # ... and above which it is 1 (10 million)
    verified: dict[int, float] = field(default_factory=_default_verified)
    big_v: float = 0.3  # verified_type >= 200 (Weibo's "big V")
    subject_in_chain: float = 0.75
    subject_absent: float = 0.5


@dataclass(frozen=True)
class Factors:
    content: float
    exposure: float
    subject: float
    reach: float
    influence: float

    @property
    def risk(self) -> float:
        return _clip(self.content * self.exposure * self.subject)


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def reach(engagement: Engagement | None, w: RiskWeights) -> float:
    if engagement is None:
        return 0.0
    weighted = w.repost * engagement.reposts + w.comment * engagement.comments + w.like * engagement.likes
    return _clip(math.log10(1.0 + weighted) / w.reach_decades)


def verified_weight(verified_type: int, w: RiskWeights) -> float:
    if verified_type >= 200:
        return w.big_v
    return w.verified.get(verified_type, 0.0)


def influence(author: Author | None, w: RiskWeights) -> float:
    if author is None:
        return 0.0
    followers = _clip((math.log10(1.0 + (author.followers or 0)) - w.followers_from) / w.followers_decades)
    return 1.0 - (1.0 - followers) * (1.0 - verified_weight(author.verified_type, w))


def factors(
    negative: float,
    severity: float,
    engagement: Engagement | None,
    author: Author | None,
    subject: float,
    w: RiskWeights,
) -> Factors:
    r = reach(engagement, w)
    i = influence(author, w)
    content = _clip(negative) * (w.content_floor + (1.0 - w.content_floor) * _clip(severity))
    exposure = w.exposure_floor + (1.0 - w.exposure_floor) * (1.0 - (1.0 - r) * (1.0 - i))
    return Factors(content, exposure, subject, r, i)


def human(n: int) -> str:
    """1234567 -> '1.2M', 35400 -> '35.4K', 980 -> '980'."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= size:
            text = f"{n / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(n)


def author_reason(author: Author | None) -> str | None:
    if author is None:
        return None
    parts = [f"{human(author.followers)} followers" if author.followers is not None else "followers unknown"]
    if author.verified_type >= 200:
        parts.append("big V")
    elif author.verified_type in VERIFIED_NAMES:
        parts.append(VERIFIED_NAMES[author.verified_type])
    return ", ".join(parts)


def engagement_reason(engagement: Engagement | None) -> str | None:
    if engagement is None or not (engagement.reposts or engagement.comments or engagement.likes):
        return None
    return (
        f"{human(engagement.reposts)} reposts, {human(engagement.comments)} comments, "
        f"{human(engagement.likes)} likes"
    )
