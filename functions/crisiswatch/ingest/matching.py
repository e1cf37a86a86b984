"""Does a post belong to a watch? The watch's rule for the platform decides (``ingest.rules``).

A watch with a rule expression for the platform (``Watch.rules[platform]``) uses it; otherwise the
default rule applies: any keyword (OR), and no exclusion word. Comparison is on folded text (see
``rules.fold``): NFKC (full-width = half-width), case folding, Traditional = Simplified.
"""

from __future__ import annotations

from crisiswatch.rules import Match, fold, rule_for
from crisiswatch.vocabulary import Watch

__all__ = ["Match", "excluded", "fold", "match", "matches"]


def match(watch: Watch, text: str, platform: str | None = None) -> Match:
    """Match ``text`` against the watch's rule for ``platform`` (the default rule when None)."""
    return rule_for(watch, platform).match(text)


def matches(watch: Watch, text: str, platform: str | None = None) -> list[str]:
    """The terms that hit, as written in the rule (the watch's keywords, in its order, for the
    default rule); empty when the text does not match. Blank keywords are ignored."""
    found = match(watch, text, platform)
    return found.terms if found.matched else []


def excluded(watch: Watch, text: str, platform: str | None = None) -> bool:
    """True when ``text`` contains a word the rule excludes (the watch's exclusion words by default)."""
    return rule_for(watch, platform).excludes(text)
