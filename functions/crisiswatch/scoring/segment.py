"""Word segmentation with jieba: one tokenizer per process, loaded on first use.

jieba's own start-up builds (or reads from /tmp) a 9 MB cache of its 349,000-word dictionary: about
0.6 s, and more on a Lambda cold start where /tmp is empty. We ship instead a prefix dictionary
trimmed to the words that matter (``data/jieba_dict.marshal.gz``, built by ``train-sentiment``
from jieba's own ``dict.txt``) and hand it to a ``jieba.Tokenizer`` directly. When that file is
missing, jieba's full dictionary is used. The sentiment model is trained on the same tokenizer it
runs with, so trimming changes nothing between training and serving.

Brand terms are added to the tokenizer's dictionary (``add_word``) so that a brand such as 鲜味坊
stays one token. The tokenizer is shared by every ``Scorer`` in the process; adding a word only
changes how that word's own characters are cut.
"""

from __future__ import annotations

import gzip
import logging
import marshal
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DICT_FILE = DATA_DIR / "jieba_dict.marshal.gz"
# The frequency given to an added brand term: high enough that jieba never splits it.
BRAND_FREQ = 100_000

_lock = threading.Lock()
_added: set[str] = set()


def load_prefix_dict(path: Path) -> tuple[dict[str, int], int]:
    """Read a prefix dictionary written by :func:`save_prefix_dict`."""
    with gzip.open(path, "rb") as handle:
        freq, total = marshal.loads(handle.read())
    return freq, total


def save_prefix_dict(words: dict[str, int], path: Path) -> None:
    """Write jieba's prefix dictionary for ``words`` (word -> frequency), as jieba builds it."""
    freq: dict[str, int] = {}
    total = 0
    for word in sorted(words):
        count = words[word]
        freq[word] = count
        total += count
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    payload = marshal.dumps((freq, total))
    with gzip.GzipFile(path, "wb", mtime=0) as handle:  # mtime=0: byte-identical rebuilds
        handle.write(payload)


@lru_cache(maxsize=4)
def tokenizer(dict_file: Path | None = DICT_FILE) -> Any:
    """The process's jieba tokenizer (``dict_file=None`` forces jieba's full dictionary)."""
    import jieba  # noqa: PLC0415 - 0.13 s: paid on first use, not at import

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    if dict_file is not None and dict_file.exists():
        tk.FREQ, tk.total = load_prefix_dict(dict_file)
        tk.initialized = True
    else:
        tk.initialize()
    return tk


def add_terms(terms: list[str] | tuple[str, ...], dict_file: Path | None = DICT_FILE) -> None:
    """Keep these terms whole (brand names, product names)."""
    new = [t for t in terms if t and t not in _added]
    if not new:
        return
    tk = tokenizer(dict_file)
    with _lock:
        for term in new:
            tk.add_word(term, freq=BRAND_FREQ)
            _added.add(term)


def cut(text: str, hmm: bool = False, dict_file: Path | None = DICT_FILE) -> list[str]:
    """jieba's accurate mode. HMM (new-word discovery) is off by default: see docs/scoring.md."""
    if not text:
        return []
    return tokenizer(dict_file).lcut(text, HMM=hmm)
