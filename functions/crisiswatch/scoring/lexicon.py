"""Crisis categories from our versioned lexicon (``scoring/data/crisis_lexicon.json``).

All terms of all categories go into one regular expression, longest first, so a post is scanned
once whatever the size of the lexicon. A match right after a negator ("没有变质") does not count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# crisiswatch/scoring/data/: package data of crisiswatch.scoring, it ships with the package.
DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_FILE = DATA_DIR / "crisis_lexicon.json"


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    label_zh: str
    severity: float
    terms: tuple[str, ...]
    context: tuple[str, ...] = ()


class Lexicon:
    def __init__(self, data: dict) -> None:
        self.version: str = str(data.get("version", ""))
        self.categories: dict[str, Category] = {}
        owners: dict[str, list[tuple[str, bool]]] = {}
        for cid, spec in data["categories"].items():
            severity = float(spec["severity"])
            if not 0.0 <= severity <= 1.0:
                raise ValueError(f"severity of {cid} must be within [0, 1]")
            terms = tuple(t.lower() for t in spec["terms"])
            context = tuple(t.lower() for t in spec.get("context", ()))
            self.categories[cid] = Category(
                cid, spec.get("label", cid), spec.get("label_zh", ""), severity, terms, context
            )
            for term in terms:
                owners.setdefault(term, []).append((cid, False))
            for term in context:
                owners.setdefault(term, []).append((cid, True))
        self._owners = owners
        negators = sorted(data.get("negators", []), key=len, reverse=True)
        self._negated = re.compile("(?:" + "|".join(map(re.escape, negators)) + ")$") if negators else None
        alternation = "|".join(map(re.escape, sorted(owners, key=len, reverse=True)))
        self._pattern = re.compile(alternation) if owners else None

    def match(self, text: str) -> dict[str, list[str]]:
        """Category id -> the distinct terms that hit it, in order of appearance."""
        if not text or self._pattern is None:
            return {}
        hits: dict[str, list[str]] = {}
        context: dict[str, list[str]] = {}
        for m in self._pattern.finditer(text):
            term = m.group(0)
            if self._negated is not None and self._negated.search(text, max(0, m.start() - 2), m.start()):
                continue
            for cid, is_context in self._owners[term]:
                bucket = (context if is_context else hits).setdefault(cid, [])
                if term not in bucket:
                    bucket.append(term)
        for cid, words in context.items():
            if cid in hits:
                hits[cid].extend(w for w in words if w not in hits[cid])
        # Most severe category first.
        return dict(sorted(hits.items(), key=lambda kv: -self.categories[kv[0]].severity))

    def severity(self, categories: dict[str, list[str]]) -> float:
        """Noisy-or of the matched categories' severities: one severe hit dominates, more add a little."""
        keep = 1.0
        for cid in categories:
            keep *= 1.0 - self.categories[cid].severity
        return 1.0 - keep


def load(path: Path = LEXICON_FILE) -> Lexicon:
    return Lexicon(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return load()
