"""The sentiment model: loading without snownlp, snownlp's format, training on tiny synthetic data."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from crisiswatch.scoring import segment, sentiment
from crisiswatch.scoring.features import FeatureConfig
from tools.scoring import train

LOAD_WITHOUT_SNOWNLP = """
import sys
from crisiswatch.scoring import Scorer, sentiment
model = sentiment.default_model()
Scorer().score_text("这家店的菜太难吃了")
print(model.version)
print(sorted(m for m in sys.modules if m == "snownlp" or m.startswith("snownlp.")))
"""


def test_shipped_model_loads_and_scores_without_importing_snownlp():
    out = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_SNOWNLP], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0].startswith("weibo-nb-"), "the trained model is shipped in crisiswatch/scoring/data/"
    assert out[1] == "[]"


def test_shipped_model_metadata():
    meta = json.loads(sentiment.META_FILE.read_text(encoding="utf-8"))
    assert meta["calibration"]["scale"] > 0
    assert "weibo2018_train.csv" in meta["cross_validation"]
    assert sentiment.MODEL_FILE.stat().st_size < 5_000_000
    assert segment.DICT_FILE.stat().st_size < 5_000_000


def test_calibration_puts_half_at_the_threshold():
    cal = sentiment.Calibration(threshold=1.5, scale=0.3)
    assert sentiment.probability(1.5, cal) == pytest.approx(0.5)
    assert sentiment.probability(10, cal) > 0.9 > 0.1 > sentiment.probability(-10, cal)
    assert sentiment.probability(1e9, cal) == 1.0 and sentiment.probability(-1e9, cal) < 1e-100


def test_naive_bayes_skips_unknown_words():
    model = train.to_snownlp(Counter({"差": 9, "一般": 1}), Counter({"好": 9, "一般": 1}))
    nb = sentiment.NaiveBayes(model)
    assert nb.log_odds(["差"]) > 0 > nb.log_odds(["好"])
    assert nb.log_odds(["从没见过的词"]) == nb.log_odds([]) == nb.prior


def test_counts_match_snownlp_trainer_format():
    docs = [["好吃", "好吃", "推荐"], ["难吃", "差"], ["好吃", "差"]]
    labels = [1, 0, 0]
    neg, pos = train.count(docs, labels, binary=True)
    model = train.to_snownlp(neg, pos)
    # What snownlp's AddOneProb holds: every seen word stored as count + 1, total = sum of stored.
    assert model["d"]["pos"]["d"] == {"好吃": 2, "推荐": 2}
    assert model["d"]["neg"]["d"] == {"差": 3, "好吃": 2, "难吃": 2}
    assert model["d"]["neg"]["total"] == 7.0 and model["d"]["neg"]["none"] == 1
    assert model["total"] == 11.0


def test_prefix_dict_roundtrip(tmp_path):
    path = tmp_path / "dict.marshal.gz"
    segment.save_prefix_dict({"鲜味": 5, "鲜味坊": 3, "好": 10}, path)
    freq, total = segment.load_prefix_dict(path)
    assert total == 18
    assert freq["鲜味坊"] == 3 and freq["鲜"] == 0 and freq["鲜味"] == 5
    first = path.read_bytes()
    segment.save_prefix_dict({"好": 10, "鲜味坊": 3, "鲜味": 5}, path)
    assert path.read_bytes() == first  # deterministic


def test_threshold_choice():
    scores = [3.0, 2.0, 1.0, -1.0, -2.0, -3.0]
    labels = [0, 0, 1, 0, 1, 1]
    cut = train.best_threshold(scores, labels)
    assert train.summary(scores, labels, cut)["accuracy"] == pytest.approx(5 / 6, abs=1e-3)
    # Demanding every negative caught lowers the cut below the negative at -1.
    assert train.choose_threshold(scores, labels, 1.0) <= -1.0
    assert train.folds_of([0, 1] * 10, 5, seed=1) == train.folds_of([0, 1] * 10, 5, seed=1)


TINY_POS = [
    "今天的饭很好吃",
    "服务热情，推荐",
    "环境不错，很开心[哈哈]",
    "味道好，下次还来",
    "非常满意，好吃",
    "很喜欢这家店",
    "开心的一天[哈哈]",
    "推荐大家来吃",
]
TINY_NEG = [
    "饭菜太难吃了",
    "服务态度差，不推荐",
    "一点也不好吃[怒]",
    "再也不来了，难吃",
    "很失望，太差了",
    "不满意，退钱",
    "生气[怒]",
    "不好吃还贵",
]


def test_train_on_tiny_synthetic_data_is_deterministic(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = ["text,label"] + [f"{t},1" for t in TINY_POS] + [f"{t},0" for t in TINY_NEG]
    (data / "tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    recipe = train.Recipe(
        features=FeatureConfig(emoticon_weight=2),
        sources=(train.Source("tiny.csv"),),
        min_count=1,
        jieba_min_freq=0,
    )
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        report = train.train_and_save(
            data, out, folds=2, seed=3, recipe=recipe, repeats=1, min_neg_recall=0.5
        )
        assert report["cross_validation"]["tiny.csv"]["n"] == 16
        outs.append((out / "sentiment.marshal.3").read_bytes())
    assert outs[0] == outs[1]
    model = sentiment.load(tmp_path / "a" / "sentiment.marshal.3", tmp_path / "a" / "sentiment.json")
    from crisiswatch.scoring import Scorer

    scorer = Scorer(model=model)
    assert scorer.negative("太难吃了，很失望") > 0.5 > scorer.negative("很好吃，很开心")


def test_snownlp_reads_the_shipped_model_with_its_own_loader():
    from tools.scoring import snownlp_core

    bayes = snownlp_core.bayes_class()()
    bayes.load(str(sentiment.MODEL_FILE)[: -len(".3")])  # Bayes.load appends ".3" on Python 3
    ours = sentiment.default_model().bayes
    tokens = ["难吃", "失望", "好吃"]
    known = [t for t in tokens if t in ours.llr]
    label, prob = bayes.classify(known)
    p_neg = prob if label == "neg" else 1 - prob
    assert p_neg == pytest.approx(sentiment.probability(ours.log_odds(known), sentiment.Calibration()))
    assert not any(m == "snownlp" or m.startswith("snownlp.") for m in sys.modules)


def test_weighted_trainer_is_snownlps_train_when_weights_are_one():
    from tools.scoring import snownlp_core

    docs = [["好吃", "推荐"], ["难吃", "差", "差"], ["好吃", "差"], ["一般"]]
    labels = [1, 0, 0, 1]
    recipe = train.Recipe(binary=False, min_count=1, length_norm=0.0, count_scale=1.0)
    ours = train.snownlp_train(docs, labels, [1.0] * 4, recipe)
    bayes = snownlp_core.bayes_class()()
    bayes.train([[d, "pos" if y == 1 else "neg"] for d, y in zip(docs, labels, strict=True)])
    assert bayes.total == ours["total"]
    for name in ("neg", "pos"):
        assert bayes.d[name].d == ours["d"][name]["d"]
        assert bayes.d[name].total == ours["d"][name]["total"]
