"""Does a post belong to a watch? The small, explicit rule used until boolean rules arrive.

A post matches when any keyword occurs in its text (OR) and no exclusion word does. Comparison is
on folded text: Unicode NFKC (full-width Latin letters, digits and punctuation become half-width:
"ＸＷＦ" -> "XWF", "＃" -> "#") followed by case folding. Plain substring search is right for
Chinese, which has no spaces between words.
"""

from __future__ import annotations

import unicodedata

from crisiswatch.models import Watch


def fold(text: str) -> str:
    """The form both sides are compared in: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def matches(watch: Watch, text: str) -> list[str]:
    """The watch's keywords found in ``text``, in the watch's order; empty when it does not match.

    Any exclusion word in the text means no match, whatever keywords hit. Blank terms are ignored.
    """
    folded = fold(text)
    if _excluded(watch, folded):
        return []
    hits: list[str] = []
    for keyword in watch.keywords:
        term = fold(keyword).strip()
        if term and term in folded and keyword not in hits:
            hits.append(keyword)
    return hits


def excluded(watch: Watch, text: str) -> bool:
    """True when ``text`` contains one of the watch's exclusion words."""
    return _excluded(watch, fold(text))


def _excluded(watch: Watch, folded: str) -> bool:
    for word in watch.exclude:
        term = fold(word).strip()
        if term and term in folded:
            return True
    return False
