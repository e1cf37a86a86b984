"""Retrain the sentiment model on Weibo text: ``crisiswatch train-sentiment``.

Reads the shared sentiment data (never copied into the repository), tokenizes it exactly as the
scorer does, trains snownlp's naive-Bayes classifier with snownlp's own code (``Bayes`` and
``AddOneProb``, loaded by ``snownlp_core`` without snownlp's slow package import; ``Bayes.train``'s
loop with a weight per document), prunes rare words and writes:

- ``scoring/data/sentiment.marshal.3``: the model in snownlp's format (``Bayes.save``), gzip'd marshal;
- ``scoring/data/sentiment.json``: how tokens are made, the decision threshold and the probability scale,
  both chosen by k-fold cross-validation on the hand-labelled weibo2018 training set, and the
  cross-validated figures;
- ``scoring/data/jieba_dict.marshal.gz``: the trimmed jieba prefix dictionary the model was trained with.

Everything is seeded: the same data gives byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import json
import marshal
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisiswatch.scoring import features, segment
from crisiswatch.scoring.features import FeatureConfig
from crisiswatch.scoring.normalize import normalize
from crisiswatch.scoring.segment import DICT_FILE
from crisiswatch.scoring.sentiment import (
    DATA_DIR,
    META_FILE,
    MODEL_FILE,
    Calibration,
    NaiveBayes,
    probability,
)
from tools.scoring import snownlp_core
from tools.scoring.evaluate import metrics

MODEL_VERSION_PREFIX = "weibo-nb"
# The hand-labelled Weibo set that thresholds are chosen on.
PRIMARY = "weibo2018_train.csv"
LEXICON_SEED = "crisis_lexicon.json (negative seed)"


@dataclass(frozen=True)
class Source:
    """A training file and how much each of its documents counts."""

    file: str
    weight: float = 1.0  # each document counts this much (relative to a primary document)
    drop_emoticons: bool = False  # the labels were derived from the emoticons: they would leak


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the model; stored in sentiment.json."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    sources: tuple[Source, ...] = (Source(PRIMARY),)
    binary: bool = True  # count a word once per document (binarized multinomial NB)
    min_count: int = 2  # drop words seen in fewer documents than this
    length_norm: float = 0.0  # a document adds 1 / n_words ** length_norm to each word's count
    # Each crisis-lexicon term at least this severe becomes a one-term negative document of this
    # weight, so that rare crisis words (变质, 漏电) lean negative even if Weibo seldom used them.
    lexicon_seed_weight: float = 0.0
    lexicon_seed_min_severity: float = 0.6
    count_scale: float = 1.0  # counts x scale before snownlp's add-one (smoothing 1/scale)
    jieba_min_freq: int = 0  # trim jieba's dictionary to words at least this frequent (0: keep all)


@dataclass
class Corpus:
    name: str
    texts: list[str]
    labels: list[int]  # 1 positive, 0 negative
    docs: list[list[str]] = field(default_factory=list)  # tokens


def read_csv(path: Path) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            label = (row.get("label") or "").strip()
            if label in ("0", "1"):
                texts.append(row.get("text") or "")
                labels.append(int(label))
    return texts, labels


def tokenize(
    texts: Iterable[str],
    config: FeatureConfig,
    drop_emoticons: bool = False,
    dict_file: Path | None = segment.DICT_FILE,
) -> list[list[str]]:
    if drop_emoticons:
        config = FeatureConfig(**{**config.to_dict(), "emoticons": False})
    return [features.tokens(normalize(t), config, dict_file=dict_file) for t in texts]


def doc_weight(n_words: int, length_norm: float) -> float:
    """How much one document adds to each of its words' counts: 1 / n_words ** length_norm."""
    return 1.0 / max(1, n_words) ** length_norm if length_norm else 1.0


def count(
    docs: Sequence[list[str]],
    labels: Sequence[int],
    weights: Sequence[float] | None = None,
    binary: bool = True,
    length_norm: float = 0.0,
) -> tuple[Counter[str], Counter[str]]:
    """Word counts per class (neg, pos); a document's words count ``weight / n_words ** length_norm``."""
    neg: Counter[str] = Counter()
    pos: Counter[str] = Counter()
    for i, (doc, label) in enumerate(zip(docs, labels, strict=True)):
        words = list(dict.fromkeys(doc)) if binary else doc
        w = (weights[i] if weights else 1) * doc_weight(len(words), length_norm)
        target = pos if label == 1 else neg
        if w == 1:
            target.update(words)
        else:
            for word in words:
                target[word] += w
    return neg, pos


def doc_counts(docs: Sequence[list[str]]) -> Counter[str]:
    """In how many documents each word occurs."""
    seen: Counter[str] = Counter()
    for doc in docs:
        seen.update(set(doc))
    return seen


def prune(
    neg: Counter[str], pos: Counter[str], min_count: int, seen: Counter[str] | None = None
) -> tuple[Counter[str], Counter[str]]:
    """Keep words seen in at least ``min_count`` documents (``seen``: document counts; by default
    the class counts themselves, which are document counts when counting is binary, unweighted)."""
    if min_count <= 1:
        return neg, pos
    if seen is None:
        seen = neg + pos
    keep = {w for w in neg.keys() | pos.keys() if seen.get(w, 0) >= min_count}
    return Counter({w: c for w, c in neg.items() if w in keep}), Counter(
        {w: c for w, c in pos.items() if w in keep}
    )


def to_snownlp(neg: Counter[str], pos: Counter[str], scale: float = 1.0) -> dict[str, Any]:
    """The dictionary snownlp's ``Bayes`` holds after ``train`` (add-one smoothed ``AddOneProb``).

    ``scale`` multiplies the counts before the add-one: scale 4 is add-0.25 smoothing in effect.
    """
    d: dict[str, Any] = {}
    for name, counts in (("neg", neg), ("pos", pos)):
        table = {w: (c * scale if scale != 1.0 else c) + 1 for w, c in sorted(counts.items())}
        d[name] = {"d": table, "total": float(sum(table.values())), "none": 1}
    return {"total": d["neg"]["total"] + d["pos"]["total"], "d": d}


def folds_of(labels: Sequence[int], k: int, seed: int) -> list[int]:
    """A stratified fold number for every document."""
    rng = random.Random(seed)
    fold = [0] * len(labels)
    for cls in (0, 1):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def cross_val_log_odds(
    primary: Corpus,
    extras: Sequence[tuple[Corpus, Source]],
    recipe: Recipe,
    k: int,
    seed: int,
    evaluate: Sequence[Corpus] = (),
) -> dict[str, list[float]]:
    """Out-of-fold log-odds for the primary corpus (and for every corpus listed in ``evaluate``,
    which may be one of the extras: then its own folds are held out too)."""
    pfold = folds_of(primary.labels, k, seed)
    efolds = {c.name: folds_of(c.labels, k, seed + 1) for c, _ in extras}
    for c in evaluate:
        efolds.setdefault(c.name, folds_of(c.labels, k, seed + 1))
    out: dict[str, list[float]] = {primary.name: [0.0] * len(primary.docs)}
    for c in evaluate:
        out[c.name] = [0.0] * len(c.docs)
    for f in range(k):
        docs = [d for d, g in zip(primary.docs, pfold, strict=True) if g != f]
        labels = [y for y, g in zip(primary.labels, pfold, strict=True) if g != f]
        weights: list[float] = [1.0] * len(docs)
        for corpus, source in extras:
            folds = efolds[corpus.name]
            for d, y, g in zip(corpus.docs, corpus.labels, folds, strict=True):
                if g != f:
                    docs.append(d)
                    labels.append(y)
                    weights.append(source.weight)
        neg, pos = count(docs, labels, weights, recipe.binary, recipe.length_norm)
        neg, pos = prune(neg, pos, recipe.min_count, doc_counts(docs))
        nb = NaiveBayes(to_snownlp(neg, pos, recipe.count_scale))
        for i, g in enumerate(pfold):
            if g == f:
                out[primary.name][i] = nb.log_odds(primary.docs[i])
        for c in evaluate:
            folds = efolds[c.name]
            for i, g in enumerate(folds):
                if g == f:
                    out[c.name][i] = nb.log_odds(c.docs[i])
    return out


def predictions(log_odds: Sequence[float], threshold: float) -> list[int]:
    return [0 if x >= threshold else 1 for x in log_odds]


def best_threshold(log_odds: Sequence[float], labels: Sequence[int], objective: str = "accuracy") -> float:
    """The log-odds cut-off that maximizes ``objective`` (accuracy or macro_f1) on these scores.

    Candidates are midpoints between consecutive sorted scores; ties go to the cut-off nearest the
    median of the tied range, which is steadier than the first one found.
    """
    pairs = sorted(zip(log_odds, labels, strict=True))
    n = len(pairs)
    n_neg = sum(1 for _, y in pairs if y == 0)
    # Everything >= cut is negative. Start with the cut above everything (all positive).
    tp_neg = 0  # negatives predicted negative
    fp_neg = 0  # positives predicted negative
    scores: list[tuple[float, float]] = []
    for j in range(n, -1, -1):
        if j < n:
            if pairs[j][1] == 0:
                tp_neg += 1
            else:
                fp_neg += 1
        if 0 < j < n and pairs[j][0] == pairs[j - 1][0]:
            continue
        cut = (
            (pairs[j - 1][0] + pairs[j][0]) / 2
            if 0 < j < n
            else (pairs[0][0] - 1 if j == 0 else pairs[-1][0] + 1)
        )
        tn_pos = (n - n_neg) - fp_neg
        acc = (tp_neg + tn_pos) / n
        if objective == "accuracy":
            value = acc
        else:
            fn_neg = n_neg - tp_neg
            f_neg = 2 * tp_neg / (2 * tp_neg + fp_neg + fn_neg) if tp_neg else 0.0
            tp_pos, fp_pos, fn_pos = tn_pos, fn_neg, fp_neg
            f_pos = 2 * tp_pos / (2 * tp_pos + fp_pos + fn_pos) if tp_pos else 0.0
            value = (f_neg + f_pos) / 2
        scores.append((value, cut))
    top = max(v for v, _ in scores)
    cuts = sorted(c for v, c in scores if v >= top - 1e-12)
    return cuts[len(cuts) // 2]


def fit_scale(log_odds: Sequence[float], labels: Sequence[int], threshold: float) -> float:
    """The slope s of p(neg) = sigmoid(s * (x - threshold)) that maximizes the likelihood."""
    ys = [1.0 if y == 0 else 0.0 for y in labels]
    xs = [x - threshold for x in log_odds]
    s = 0.1
    for _ in range(100):  # Newton's method on one variable
        g = h = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = probability(x * s, Calibration())
            g += (p - y) * x
            h += p * (1 - p) * x * x
        if h <= 0:
            break
        step = g / h
        s = max(1e-4, s - step)
        if abs(step) < 1e-9:
            break
    return s


def jieba_words(min_freq: int) -> dict[str, int]:
    """jieba's own dictionary (dict.txt), trimmed to words at least ``min_freq`` frequent.

    Negators, intensifiers and our crisis-lexicon terms that jieba knows are kept whatever their
    frequency (with jieba's frequency), so the rules in features.py see them whole and the reasons
    name 客服 rather than 服.
    """
    from crisiswatch.scoring.lexicon import default_lexicon

    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    lex = default_lexicon()
    keep_always = features.NEGATORS | features.INTENSIFIERS
    keep_always |= {t for c in lex.categories.values() for t in (*c.terms, *c.context)}
    words: dict[str, int] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) >= 2:
                word, freq = parts[0], int(parts[1])
                if freq >= min_freq or word in keep_always:
                    words[word] = freq
    return words


def snownlp_train(
    docs: Sequence[list[str]], labels: Sequence[int], weights: Sequence[float], recipe: Recipe
) -> dict[str, Any]:
    """Train snownlp's ``Bayes`` and return what its ``save`` writes, less the rare words.

    ``Bayes.train(data)`` is ``self.d[label].add(word, 1)`` for every word of every document, then
    ``self.total = sum of the classes' sums``. We run that same loop on snownlp's ``Bayes`` and
    ``AddOneProb`` objects, adding each document's weight (source weight x length normalization x
    count scale) instead of 1; with every weight 1 it is ``Bayes.train`` exactly (a unit test checks).
    """
    bayes = snownlp_core.bayes_class()()
    add_one_prob = snownlp_core.add_one_prob_class()
    for doc, label, weight in zip(docs, labels, weights, strict=True):
        words = list(dict.fromkeys(doc)) if recipe.binary else list(doc)
        name = "pos" if label == 1 else "neg"
        if name not in bayes.d:
            bayes.d[name] = add_one_prob()
        value = weight * doc_weight(len(words), recipe.length_norm) * recipe.count_scale
        for word in words:
            bayes.d[name].add(word, value)
    bayes.total = sum(prob.getsum() for prob in bayes.d.values())
    seen = doc_counts(docs)
    model: dict[str, Any] = {"d": {}}
    for name in ("neg", "pos"):
        prob = bayes.d[name]
        table = {w: c for w, c in sorted(prob.d.items()) if seen[w] >= recipe.min_count}
        model["d"][name] = {"d": table, "total": float(sum(table.values())), "none": prob.none}
    model["total"] = model["d"]["neg"]["total"] + model["d"]["pos"]["total"]
    return model


def same_model(a: dict[str, Any], b: dict[str, Any], tolerance: float = 1e-9) -> bool:
    """Equal up to floating-point summation order."""
    for name in ("neg", "pos"):
        da, db = a["d"][name]["d"], b["d"][name]["d"]
        if da.keys() != db.keys() or any(abs(da[w] - db[w]) > tolerance * max(1.0, abs(da[w])) for w in da):
            return False
    return abs(a["total"] - b["total"]) <= tolerance * a["total"]


def write_model(model: dict[str, Any], path: Path) -> None:
    """snownlp's ``Bayes.save`` format (gzip'd marshal), with a fixed gzip timestamp."""
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(marshal.dumps(model, 2))  # version 2: no object references, stable bytes


def check_with_snownlp(path: Path, docs: Sequence[list[str]]) -> bool:
    """Load the written file with snownlp's own ``Bayes.load`` and compare verdicts with ours."""
    from crisiswatch.scoring.sentiment import read_bayes

    theirs = snownlp_core.bayes_class()()
    theirs.load(str(path)[: -len(".3")])
    ours = NaiveBayes(read_bayes(path))
    for doc in docs:
        known = [w for w in doc if w in ours.llr]  # snownlp would count unknown words too
        label, prob = theirs.classify(known)
        p_neg = prob if label == "neg" else 1 - prob
        if abs(p_neg - probability(ours.log_odds(known), Calibration())) > 1e-6:
            return False
    return True


def choose_threshold(log_odds: Sequence[float], labels: Sequence[int], min_neg_recall: float) -> float:
    """The accuracy-maximizing cut-off; if it catches fewer than ``min_neg_recall`` of the negative
    posts, the highest cut-off that does catch them (a monitor must not miss negative posts)."""
    cut = best_threshold(log_odds, labels)
    negatives = sorted((x for x, y in zip(log_odds, labels, strict=True) if y == 0), reverse=True)
    if not negatives:
        return cut
    needed = math.ceil(min_neg_recall * len(negatives))
    floor = negatives[needed - 1]  # every negative at or above this is caught
    return min(cut, floor)


def train_and_save(
    data_dir: Path,
    out: Path | None,
    folds: int = 5,
    seed: int = 20261121,
    recipe: Recipe | None = None,
    repeats: int = 2,
    min_neg_recall: float = 0.80,
) -> dict[str, Any]:
    """Cross-validate, choose the threshold, train on everything and write the model files."""
    recipe = recipe or DEFAULT_RECIPE
    out = out or DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    dict_file = out / DICT_FILE.name
    dict_file_arg: Path | None = None  # None: jieba's full dictionary
    if recipe.jieba_min_freq > 0:
        segment.save_prefix_dict(jieba_words(recipe.jieba_min_freq), dict_file)
        dict_file_arg = dict_file
        segment.clear()  # the file may have been loaded before it was rewritten
    else:
        dict_file.unlink(missing_ok=True)

    corpora: dict[str, Corpus] = {}
    for source in recipe.sources:
        texts, labels = read_csv(data_dir / source.file)
        corpus = Corpus(source.file, texts, labels)
        corpus.docs = tokenize(texts, recipe.features, source.drop_emoticons, dict_file_arg)
        corpora[source.file] = corpus
    primary = corpora[recipe.sources[0].file]
    extras = [(corpora[s.file], s) for s in recipe.sources[1:]]
    # Each extra source is also scored out-of-fold, as the scorer sees it (with its emoticons).
    evaluate: list[Corpus] = []
    for corpus, source in list(extras):
        if source.drop_emoticons:
            full = Corpus(corpus.name, corpus.texts, corpus.labels)
            full.docs = tokenize(corpus.texts, recipe.features, False, dict_file_arg)
            evaluate.append(full)
        else:
            evaluate.append(corpus)

    if recipe.lexicon_seed_weight > 0:
        seed_source = Source(LEXICON_SEED, weight=recipe.lexicon_seed_weight)
        corpora[LEXICON_SEED] = lexicon_seed(recipe, dict_file_arg)
        extras.append((corpora[LEXICON_SEED], seed_source))
    else:
        seed_source = None

    # Out-of-fold scores, pooled over repeated k-fold splits with different seeds.
    pooled: dict[str, tuple[list[float], list[int]]] = {}
    for r in range(repeats):
        oof = cross_val_log_odds(primary, extras, recipe, folds, seed + 1000 * r, evaluate)
        for name, scores in oof.items():
            xs, ys = pooled.setdefault(name, ([], []))
            xs.extend(scores)
            ys.extend(corpora[name].labels)
    xs, ys = pooled[primary.name]
    threshold = choose_threshold(xs, ys, min_neg_recall)
    scale = fit_scale(xs, ys, threshold)
    cv = {name: summary(x, y, threshold) for name, (x, y) in pooled.items()}
    for name in cv:
        cv[name]["n"] = len(corpora[name].labels)
    # The hand-labelled sets we are judged on may be more positive than ours (55%): the same
    # cross-validated verdicts, re-weighted to 70% positive.
    cv[primary.name]["accuracy_if_70pct_positive"] = round(reweighted_accuracy(xs, ys, threshold, 0.70), 4)

    # The model itself: everything, trained by snownlp's trainer.
    docs: list[list[str]] = []
    labels: list[int] = []
    weights: list[float] = []
    for source in (*recipe.sources, *([seed_source] if seed_source else [])):
        corpus = corpora[source.file]
        docs.extend(corpus.docs)
        labels.extend(corpus.labels)
        weights.extend([source.weight] * len(corpus.docs))
    model = snownlp_train(docs, labels, weights, recipe)
    neg, pos = count(docs, labels, weights, recipe.binary, recipe.length_norm)
    expected = to_snownlp(*prune(neg, pos, recipe.min_count, doc_counts(docs)), recipe.count_scale)
    if not same_model(model, expected):
        raise RuntimeError("snownlp's trainer and our counting disagree")
    model_file = out / MODEL_FILE.name
    write_model(model, model_file)
    if not check_with_snownlp(model_file, primary.docs[:200]):
        raise RuntimeError("snownlp's Bayes.load/classify disagrees with our reading of the model")

    digests = {s.file: file_digest(data_dir / s.file) for s in recipe.sources}
    if seed_source:
        from crisiswatch.scoring.lexicon import LEXICON_FILE

        digests[LEXICON_SEED] = file_digest(LEXICON_FILE)
    # Content-addressed: the version changes exactly when the shipped files do.
    fingerprint = hashlib.sha256(model_file.read_bytes())
    if dict_file_arg:
        fingerprint.update(dict_file.read_bytes())
    version = f"{MODEL_VERSION_PREFIX}-{fingerprint.hexdigest()[:8]}"
    meta = {
        "version": version,
        "engine": "snownlp.classification.bayes.Bayes (add-one naive Bayes), jieba tokens",
        "features": recipe.features.to_dict(),
        "recipe": recipe_dict(recipe),
        "calibration": {
            "threshold": round(threshold, 6),
            "scale": round(scale, 6),
            "how": f"{repeats}x stratified {folds}-fold cross-validation on {primary.name} (with the other "
            f"sources in every training fold): the log-odds cut-off with the best accuracy, lowered if "
            f"needed to catch {min_neg_recall:.0%} of negative posts; scale by maximum likelihood",
            "min_neg_recall": min_neg_recall,
            "seed": seed,
        },
        "cross_validation": cv,
        "training": {
            "documents": {name: len(corpus.docs) for name, corpus in corpora.items()},
            "vocabulary": len(model["d"]["neg"]["d"].keys() | model["d"]["pos"]["d"].keys()),
            "data_sha256_16": digests,
        },
        "files": {
            MODEL_FILE.name: file_digest(model_file),
            **({DICT_FILE.name: file_digest(dict_file)} if dict_file_arg else {}),
        },
    }
    (out / META_FILE.name).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {
        "version": version,
        "threshold": meta["calibration"]["threshold"],
        "scale": meta["calibration"]["scale"],
        "cross_validation": cv,
        "vocabulary": meta["training"]["vocabulary"],
        "files": {name: (out / name).stat().st_size for name in meta["files"]},
    }


def lexicon_seed(recipe: Recipe, dict_file: Path | None) -> Corpus:
    """Our crisis lexicon's terms as negative one-term documents (see ``Recipe.lexicon_seed_weight``)."""
    from crisiswatch.scoring.lexicon import default_lexicon

    lex = default_lexicon()
    terms = sorted(
        {
            t
            for c in lex.categories.values()
            if c.severity >= recipe.lexicon_seed_min_severity
            for t in c.terms
        }
    )
    corpus = Corpus(LEXICON_SEED, terms, [0] * len(terms))
    corpus.docs = tokenize(terms, recipe.features, False, dict_file)
    return corpus


def recipe_dict(recipe: Recipe) -> dict[str, Any]:
    return {
        "sources": [vars(s) for s in recipe.sources],
        "lexicon_seed_weight": recipe.lexicon_seed_weight,
        "lexicon_seed_min_severity": recipe.lexicon_seed_min_severity,
        "binary": recipe.binary,
        "min_count": recipe.min_count,
        "length_norm": recipe.length_norm,
        "count_scale": recipe.count_scale,
        "jieba_min_freq": recipe.jieba_min_freq,
    }


def reweighted_accuracy(
    log_odds: Sequence[float], labels: Sequence[int], threshold: float, positive_share: float
) -> float:
    """Accuracy if the same posts came in a mix with ``positive_share`` positives."""
    m = summary(log_odds, labels, threshold)
    neg = [x for x, y in zip(log_odds, labels, strict=True) if y == 0]
    pos = [x for x, y in zip(log_odds, labels, strict=True) if y == 1]
    if not neg or not pos:
        return m["accuracy"]
    neg_recall = sum(1 for x in neg if x >= threshold) / len(neg)
    pos_recall = sum(1 for x in pos if x < threshold) / len(pos)
    return positive_share * pos_recall + (1 - positive_share) * neg_recall


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def summary(log_odds: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, Any]:
    return metrics(labels, predictions(log_odds, threshold))


DEFAULT_RECIPE = Recipe(
    features=FeatureConfig(
        negation=True,
        negation_scope=1,
        intensifiers=True,
        emoticons=True,
        emoticon_weight=2,
        bigrams=False,
        hmm=False,
    ),
    sources=(
        Source(PRIMARY),
        Source("osm_train.csv", weight=0.25),
        Source("weibo_senti_100k_part.csv", weight=0.25, drop_emoticons=True),
        Source("waimai_10k.csv", weight=0.05),
    ),
    binary=True,
    min_count=2,
    length_norm=0.5,
    count_scale=2.0,
    lexicon_seed_weight=1.0,
    jieba_min_freq=10,
)
