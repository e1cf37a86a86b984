"""snownlp's naive-Bayes sentiment model, read without importing snownlp.

``import snownlp`` costs 2.4 s (its package ``__init__`` loads its segmenter, tagger and pinyin
tables), and even ``from snownlp.classification.bayes import Bayes`` runs that ``__init__``. The
model file is small and simple, so we read it ourselves: snownlp's ``Bayes.save`` writes
``gzip(marshal({"total": n, "d": {"neg": {"d": {word: count}, "total": n, "none": 1}, "pos": ...}}))``
to ``<name>.3``, counts smoothed by add-one (``AddOneProb``). Training still uses snownlp's own
trainer (see ``train.py``), so the file on disk is exactly what snownlp writes and reads.

Scoring is snownlp's ``Bayes.classify`` rewritten as a sum of per-word log-likelihood ratios
computed once at load, with two changes: words the model never saw are skipped (snownlp gives them
the add-one floor of each class, which tilts every unknown word toward the class with fewer
words), and the log-odds is mapped to a probability with a scale and threshold fitted by
cross-validation (``sentiment.json``), because raw naive-Bayes probabilities are nearly always 0 or 1.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import marshal
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crisiswatch.scoring.features import FeatureConfig

# crisiswatch/scoring/data/: package data of crisiswatch.scoring, it ships with the package.
DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_FILE = DATA_DIR / "sentiment.marshal.3"
META_FILE = DATA_DIR / "sentiment.json"


@dataclass(frozen=True)
class Calibration:
    """p(negative) = sigmoid(scale * (log-odds - threshold)): p = 0.5 exactly at the threshold."""

    threshold: float = 0.0
    scale: float = 1.0


def stock_model_file() -> Path:
    """snownlp's shipped model (trained on shopping reviews), located without importing snownlp."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("snownlp is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment" / "sentiment.marshal.3"


def read_bayes(path: Path) -> dict:
    """Read a model in snownlp's ``Bayes.save`` format (gzip'd or plain marshal, as Bayes.load does)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return marshal.loads(raw)


class NaiveBayes:
    """Log-odds of 'neg' over 'pos' for a list of tokens."""

    def __init__(self, data: dict, calibration: Calibration | None = None) -> None:
        classes = data["d"]
        neg, pos = classes["neg"], classes["pos"]
        neg_counts, pos_counts = neg["d"], pos["d"]
        log_neg_total, log_pos_total = math.log(neg["total"]), math.log(pos["total"])
        neg_none, pos_none = math.log(neg["none"]), math.log(pos["none"])
        log = math.log
        llr: dict[str, float] = {}
        for word, count in neg_counts.items():
            p = pos_counts.get(word)
            llr[word] = (log(count) - log_neg_total) - ((log(p) if p else pos_none) - log_pos_total)
        for word, count in pos_counts.items():
            if word not in neg_counts:
                llr[word] = (neg_none - log_neg_total) - (log(count) - log_pos_total)
        self.llr = llr
        # snownlp's prior: each class's share of all counted words.
        self.prior = log_neg_total - log_pos_total
        self.calibration = calibration or Calibration()

    def log_odds(self, tokens: list[str]) -> float:
        get = self.llr.get
        return self.prior + sum(get(t, 0.0) for t in tokens)

    def contributions(self, tokens: list[str]) -> list[tuple[str, float]]:
        """Each known token's push toward negative (+) or positive (-)."""
        return [(t, self.llr[t]) for t in tokens if t in self.llr]

    def negative(self, tokens: list[str]) -> float:
        """Calibrated probability that the tokens are negative."""
        return probability(self.log_odds(tokens), self.calibration)


def probability(log_odds: float, calibration: Calibration) -> float:
    z = calibration.scale * (log_odds - calibration.threshold)
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


@dataclass(frozen=True)
class SentimentModel:
    bayes: NaiveBayes
    features: FeatureConfig
    meta: dict

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "snownlp-stock"))


def load(model_file: Path = MODEL_FILE, meta_file: Path = META_FILE) -> SentimentModel:
    """Load a trained model and its metadata; falls back to snownlp's stock model."""
    if model_file.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    else:
        model_file, meta = stock_model_file(), {"version": "snownlp-stock", "features": {"negation": False}}
    cal = meta.get("calibration", {})
    calibration = Calibration(float(cal.get("threshold", 0.0)), float(cal.get("scale", 1.0)))
    bayes = NaiveBayes(read_bayes(model_file), calibration)
    return SentimentModel(bayes, FeatureConfig.from_dict(meta.get("features", {})), meta)


@lru_cache(maxsize=1)
def default_model() -> SentimentModel:
    """The shipped model, loaded once per process."""
    return load()
