"""Recipe variants, cross-validated exactly as ``train-sentiment`` does (nothing is written).

``python -m tools.scoring.experiments [--data-dir ../shared/data/sentiment] [NAME ...]``
prints one JSON line per variant: weibo2018_train's pooled out-of-fold accuracy and negative
recall (threshold chosen as in training) and the same verdicts re-weighted to a 70%-positive mix.
Every variant is ``train.DEFAULT_RECIPE`` with one or two settings changed; ``docs/scoring.md``
lists the figures.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from crisiswatch.scoring.segment import DICT_FILE
from tools.scoring import train

_BASE = train.DEFAULT_RECIPE
_F = _BASE.features
_OSM, _SENTI, _WAIMAI = _BASE.sources[1:]


def _weights(osm: float, senti: float, waimai: float) -> tuple[train.Source, ...]:
    return tuple(
        s
        for s in (
            train.Source(train.PRIMARY),
            replace(_OSM, weight=osm),
            replace(_SENTI, weight=senti),
            replace(_WAIMAI, weight=waimai),
        )
        if s.weight > 0
    )


VARIANTS: dict[str, train.Recipe] = {
    "default": _BASE,
    # binarized multinomial NB vs raw counts
    "counts_not_binary": replace(_BASE, binary=False),
    # additive smoothing: snownlp adds 1 to counts x count_scale, i.e. alpha = 1 / count_scale
    "alpha_1": replace(_BASE, count_scale=1.0),
    "alpha_0.25": replace(_BASE, count_scale=4.0),
    "alpha_0.1": replace(_BASE, count_scale=10.0),
    "length_norm_0": replace(_BASE, length_norm=0.0),
    "length_norm_0.75": replace(_BASE, length_norm=0.75),
    "length_norm_1": replace(_BASE, length_norm=1.0),
    "min_count_1": replace(_BASE, min_count=1),
    "min_count_3": replace(_BASE, min_count=3),
    # auxiliary data weights (osm, weibo_senti_100k_part, waimai)
    "weibo2018_only": replace(_BASE, sources=_weights(0, 0, 0)),
    "osm_0": replace(_BASE, sources=_weights(0, 0.25, 0.05)),
    "osm_0.1": replace(_BASE, sources=_weights(0.1, 0.25, 0.05)),
    "osm_0.5": replace(_BASE, sources=_weights(0.5, 0.25, 0.05)),
    "senti_0": replace(_BASE, sources=_weights(0.25, 0, 0.05)),
    "senti_0.1": replace(_BASE, sources=_weights(0.25, 0.1, 0.05)),
    "senti_0.5": replace(_BASE, sources=_weights(0.25, 0.5, 0.05)),
    "waimai_0": replace(_BASE, sources=_weights(0.25, 0.25, 0)),
    "waimai_0.15": replace(_BASE, sources=_weights(0.25, 0.25, 0.15)),
    "no_lexicon_seed": replace(_BASE, lexicon_seed_weight=0.0),
    "alpha_0.75_min_count_1_osm_0.1": replace(
        _BASE, count_scale=4 / 3, min_count=1, sources=_weights(0.1, 0.25, 0.05)
    ),
    # tokens
    "no_negation": replace(_BASE, features=replace(_F, negation=False)),
    "emoticons_once": replace(_BASE, features=replace(_F, emoticon_weight=1)),
    "emoticons_x3": replace(_BASE, features=replace(_F, emoticon_weight=3)),
    "hmm_on": replace(_BASE, features=replace(_F, hmm=True)),
}


def cross_validate(
    recipe: train.Recipe,
    data_dir: Path,
    folds: int = 5,
    seed: int = 20261121,
    repeats: int = 2,
    min_neg_recall: float = 0.80,
    _cache: dict | None = None,
) -> dict[str, float]:
    """``train_and_save``'s cross-validation and threshold for ``recipe``: tokens from the shipped
    (trimmed) dictionary, or from jieba's full one when ``recipe.jieba_min_freq`` is 0."""
    cache = _cache if _cache is not None else {}
    dict_file = DICT_FILE if recipe.jieba_min_freq > 0 else None
    corpora: dict[str, train.Corpus] = {}
    for source in recipe.sources:
        key = (
            source.file,
            source.drop_emoticons,
            dict_file,
            json.dumps(recipe.features.to_dict(), sort_keys=True),
        )
        if key not in cache:
            texts, labels = train.read_csv(data_dir / source.file)
            corpus = train.Corpus(source.file, texts, labels)
            corpus.docs = train.tokenize(texts, recipe.features, source.drop_emoticons, dict_file)
            cache[key] = corpus
        corpora[source.file] = cache[key]
    primary = corpora[recipe.sources[0].file]
    extras = [(corpora[s.file], s) for s in recipe.sources[1:]]
    if recipe.lexicon_seed_weight > 0:
        extras.append(
            (
                train.lexicon_seed(recipe, dict_file),
                train.Source(train.LEXICON_SEED, recipe.lexicon_seed_weight),
            )
        )
    xs: list[float] = []
    ys: list[int] = []
    for r in range(repeats):
        oof = train.cross_val_log_odds(primary, extras, recipe, folds, seed + 1000 * r)
        xs.extend(oof[primary.name])
        ys.extend(primary.labels)
    threshold = train.choose_threshold(xs, ys, min_neg_recall)
    m = train.summary(xs, ys, threshold)
    return {
        "accuracy": m["accuracy"],
        "neg_recall": m["neg_recall"],
        "accuracy_if_70pct_positive": round(train.reweighted_accuracy(xs, ys, threshold, 0.70), 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"variants (default: all): {', '.join(VARIANTS)}")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/sentiment"))
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args(argv)
    cache: dict = {}
    for name in args.names or VARIANTS:
        result = cross_validate(VARIANTS[name], args.data_dir, seed=args.seed, _cache=cache)
        print(json.dumps({"variant": name, **result}), flush=True)


if __name__ == "__main__":
    main()
