"""Recipe experiments: the same cross-validation as ``train-sentiment``, nothing written."""

from crisiswatch.scoring.features import FeatureConfig
from tools.scoring import experiments, train

POS = [
    "味道很好，下次还来",
    "服务热情，很开心",
    "太好吃了[哈哈]",
    "环境不错，推荐",
    "很满意，点赞",
    "真好看[爱你]",
]
NEG = ["太难吃了，失望", "服务很差，再也不来", "生气[怒]", "不好吃还贵", "很糟糕，退钱", "难看死了[怒]"]


def test_variants_are_the_default_recipe_with_one_change():
    assert experiments.VARIANTS["default"] == train.DEFAULT_RECIPE
    assert experiments.VARIANTS["alpha_1"].count_scale == 1.0
    assert experiments.VARIANTS["hmm_on"].features.hmm
    assert [s.file for s in experiments.VARIANTS["weibo2018_only"].sources] == [train.PRIMARY]


def test_cross_validate_matches_train_and_save(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = ["text,label"] + [f"{t},1" for t in POS] + [f"{t},0" for t in NEG]
    (data / "tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    recipe = train.Recipe(
        features=FeatureConfig(emoticon_weight=2), sources=(train.Source("tiny.csv"),), min_count=1
    )
    ours = experiments.cross_validate(recipe, data, folds=2, seed=3, repeats=1, min_neg_recall=0.5)
    report = train.train_and_save(
        data, tmp_path / "out", folds=2, seed=3, recipe=recipe, repeats=1, min_neg_recall=0.5
    )
    cv = report["cross_validation"]["tiny.csv"]
    assert ours["accuracy"] == cv["accuracy"]
    assert ours["neg_recall"] == cv["neg_recall"]
