"""Accuracy figures for the sentiment model on a labelled CSV (``text``, ``label``: 1 positive, 0 negative)."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def read_labelled(path: Path) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected the columns 'text' and 'label'")
        for row in reader:
            label = (row["label"] or "").strip()
            if label not in ("0", "1"):
                continue
            texts.append(row["text"] or "")
            labels.append(int(label))
    return texts, labels


def metrics(labels: Sequence[int], predicted: Sequence[int]) -> dict[str, Any]:
    """Accuracy, macro-F1 and the negative class's precision and recall (label 0 = negative)."""
    n = len(labels)
    tp = {0: 0, 1: 0}
    fp = {0: 0, 1: 0}
    fn = {0: 0, 1: 0}
    for y, p in zip(labels, predicted, strict=True):
        if y == p:
            tp[y] += 1
        else:
            fp[p] += 1
            fn[y] += 1

    def ratio(a: int, b: int) -> float:
        return a / b if b else 0.0

    f1 = {}
    for c in (0, 1):
        prec, rec = ratio(tp[c], tp[c] + fp[c]), ratio(tp[c], tp[c] + fn[c])
        f1[c] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "n": n,
        "accuracy": round(ratio(tp[0] + tp[1], n), 4),
        "macro_f1": round((f1[0] + f1[1]) / 2, 4),
        "neg_precision": round(ratio(tp[0], tp[0] + fp[0]), 4),
        "neg_recall": round(ratio(tp[0], tp[0] + fn[0]), 4),
    }


def evaluate_sentiment(path: Path, scorer: Any | None = None) -> dict[str, Any]:
    """Score every row with the full scorer; a post is negative when P(negative) >= 0.5."""
    from crisiswatch.scoring import Scorer

    texts, labels = read_labelled(path)
    scorer = scorer or Scorer()
    scorer.score_text("预热")  # load the models outside the timed loop
    start = time.perf_counter()
    predicted = [0 if scorer.score_text(t).negative >= 0.5 else 1 for t in texts]
    elapsed = time.perf_counter() - start
    result = metrics(labels, predicted)
    result["ms_per_post"] = round(1000 * elapsed / len(texts), 4) if texts else 0.0
    return result
