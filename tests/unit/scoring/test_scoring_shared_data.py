"""Checks against the real Weibo text in ../shared/data (skipped when it is absent).

No accuracy or speed is asserted here: `crisiswatch eval sentiment` and the bench measure those.
"""

import csv
import itertools
import json
import os
from pathlib import Path

import pytest

from crisiswatch.scoring import segment, sentiment
from crisiswatch.scoring.normalize import normalize
from tools.scoring import train

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("CRISISWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SENTIMENT_DATA = SHARED_DATA / "sentiment"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SENTIMENT_DATA.is_dir(), reason=f"shared data not available at {SHARED_DATA}"),
]

FILES = ["weibo2018_train.csv", "osm_train.csv", "weibo_senti_100k_part.csv", "waimai_10k.csv"]


def _texts(name: str, n: int) -> list[str]:
    with open(SENTIMENT_DATA / name, encoding="utf-8", newline="") as handle:
        return [row["text"] for row in itertools.islice(csv.DictReader(handle), n)]


@pytest.mark.parametrize("name", FILES)
def test_fast_cut_gives_jiebas_tokens(name):
    tk = segment.tokenizer()
    for text in _texts(name, 1500):
        for piece in (text, normalize(text).text):
            assert segment.fast_cut(piece, tk.FREQ, tk.total) == tk.lcut(piece, HMM=False)


@pytest.mark.parametrize("name", FILES)
def test_real_posts_score_within_bounds(scorer, name):
    for text in _texts(name, 500):
        score = scorer.score_text(text)
        assert 0 <= score.negative <= 1 and 0 <= score.risk <= 1 and score.reasons


def test_shipped_model_matches_the_data_and_lexicon():
    from crisiswatch.scoring.lexicon import LEXICON_FILE

    meta = json.loads(sentiment.META_FILE.read_text(encoding="utf-8"))
    for name, digest in meta["training"]["data_sha256_16"].items():
        path = LEXICON_FILE if name == train.LEXICON_SEED else SENTIMENT_DATA / name
        assert train.file_digest(path) == digest, f"{path.name} changed since training: make model"
