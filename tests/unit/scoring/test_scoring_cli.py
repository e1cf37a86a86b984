import argparse
import json

from tools.scoring import cli


def _parser():
    parser = argparse.ArgumentParser(prog="crisiswatch")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    return parser


def test_score_command_prints_json(capsys):
    args = _parser().parse_args(["score", "鲜味坊的菜里吃出虫子", "--brand", "鲜味坊"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"sentiment", "categories", "risk", "reasons"}
    assert out["categories"]["food_safety"] == ["吃出", "虫子"]


def test_eval_sentiment_command(tmp_path, capsys):
    data = tmp_path / "mini.csv"
    data.write_text("text,label\n今天真开心,1\n太难吃了，再也不来了,0\n,1\n", encoding="utf-8")
    args = _parser().parse_args(["eval", "sentiment", "--data", str(data)])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"n", "accuracy", "macro_f1", "neg_precision", "neg_recall", "ms_per_post"}
    assert out["n"] == 3


def test_eval_missing_file(tmp_path):
    args = _parser().parse_args(["eval", "sentiment", "--data", str(tmp_path / "none.csv")])
    assert args.func(args) == 2


def test_train_without_data_fails_cleanly(tmp_path):
    args = _parser().parse_args(["train-sentiment", "--data-dir", str(tmp_path / "absent")])
    assert args.func(args) == 2


def test_metrics():
    from tools.scoring.evaluate import metrics

    m = metrics([0, 0, 1, 1], [0, 1, 1, 1])
    assert m["accuracy"] == 0.75 and m["neg_recall"] == 0.5 and m["neg_precision"] == 1.0
    assert metrics([], [])["accuracy"] == 0.0
