"""Scoring commands: ``score``, ``eval sentiment`` and ``train-sentiment``.

The project's ``crisiswatch`` entry point calls :func:`register` with its subparsers; this module
can also run alone: ``python -m tools.scoring.cli score "文本"``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.evaluation.background import register as register_background
from tools.evaluation.detection import register as register_detection

DEFAULT_DATA_DIR = Path("../shared/data/sentiment")


def _print(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def cmd_score(args: argparse.Namespace) -> int:
    from crisiswatch.scoring import Scorer

    score = Scorer(brand_terms=args.brand or ()).score_text(args.text)
    _print(
        {
            "sentiment": score.negative,
            "categories": score.categories,
            "risk": score.risk,
            "reasons": score.reasons,
        }
    )
    return 0


def cmd_eval_sentiment(args: argparse.Namespace) -> int:
    from tools.scoring.evaluate import evaluate_sentiment

    path = Path(args.data)
    if not path.is_file():
        sys.stderr.write(f"no such file: {path}\n")
        return 2
    _print(evaluate_sentiment(path))
    return 0


def cmd_train_sentiment(args: argparse.Namespace) -> int:
    from tools.scoring import train

    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        sys.stderr.write(f"no training data at {data_dir} (see ../shared/data/README.md)\n")
        return 2
    out = Path(args.out) if args.out else None
    report = train.train_and_save(data_dir, out, folds=args.folds, seed=args.seed)
    _print(report)
    return 0


def register(subparsers: Any) -> None:
    """Add ``score``, ``eval sentiment`` and ``train-sentiment`` to an argparse subparsers object."""
    score = subparsers.add_parser("score", help="score one text: sentiment, crisis categories, risk")
    score.add_argument("text")
    score.add_argument("--brand", action="append", metavar="TERM", help="a brand term (repeatable)")
    score.set_defaults(func=cmd_score)

    evaluate = subparsers.add_parser("eval", help="measure accuracy on a labelled CSV")
    what = evaluate.add_subparsers(dest="eval_what", required=True)
    sentiment = what.add_parser("sentiment", help="CSV with text,label (1 positive, 0 negative)")
    sentiment.add_argument("--data", required=True, metavar="FILE.csv")
    sentiment.set_defaults(func=cmd_eval_sentiment)
    register_background(what)
    register_detection(what)

    train = subparsers.add_parser("train-sentiment", help="retrain the sentiment model on Weibo text")
    train.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="the shared sentiment data folder")
    train.add_argument(
        "--out", default=None, help="folder for the model files (default: crisiswatch/scoring/data/)"
    )
    train.add_argument("--folds", type=int, default=5)
    train.add_argument("--seed", type=int, default=20261121)
    train.set_defaults(func=cmd_train_sentiment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crisiswatch-scoring")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
