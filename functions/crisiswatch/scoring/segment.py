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
import re
import threading
from functools import lru_cache
from math import log
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DICT_FILE = DATA_DIR / "jieba_dict.marshal.gz"
# The frequency given to an added brand term: high enough that jieba never splits it.
BRAND_FREQ = 100_000

_lock = threading.Lock()
_added: set[tuple[Path | None, str]] = set()


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
    payload = marshal.dumps((freq, total), 2)  # version 2: no object references, stable bytes
    with gzip.GzipFile(path, "wb", mtime=0) as handle:  # mtime=0: byte-identical rebuilds
        handle.write(payload)


def clear() -> None:
    """Forget loaded tokenizers and added terms (after the dictionary file is rewritten)."""
    tokenizer.cache_clear()
    _added.clear()


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
    new = [t for t in terms if t and (dict_file, t) not in _added]
    if not new:
        return
    tk = tokenizer(dict_file)
    with _lock:
        for term in new:
            tk.add_word(term, freq=BRAND_FREQ)
            _added.add((dict_file, term))


def cut(text: str, hmm: bool = False, dict_file: Path | None = DICT_FILE) -> list[str]:
    """jieba's accurate mode. HMM (new-word discovery) is off by default: see docs/scoring.md.

    Without HMM, :func:`fast_cut` gives jieba's exact tokens in about half the time.
    """
    if not text:
        return []
    tk = tokenizer(dict_file)
    if hmm:
        return tk.lcut(text, HMM=True)
    return fast_cut(text, tk.FREQ, tk.total)


# jieba 0.42.1's block and character classes (jieba.re_han_default, re_skip_default, re_eng).
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_RE_SKIP = re.compile("(\r\n|\\s)")
_RE_ENG = re.compile("[a-zA-Z0-9]")


def fast_cut(text: str, freq: dict[str, int], total: int) -> list[str]:
    """``jieba.Tokenizer.lcut(text, HMM=False)``, token for token, without the per-call overhead.

    The same algorithm on the same prefix dictionary: build each position's word candidates and
    pick the most probable path right to left (jieba's ``get_DAG`` + ``calc`` fused into one pass,
    same arithmetic, same tie-breaking), then join runs of single Latin letters and digits.
    tests/unit/scoring checks the tokens against jieba's own ``lcut``.
    """
    out: list[str] = []
    append = out.append
    logtotal = log(total)
    eng = _RE_ENG.match
    for block in _RE_HAN.split(text):
        if not block:
            continue
        if not _RE_HAN.match(block):
            for piece in _RE_SKIP.split(block):
                if _RE_SKIP.match(piece):
                    append(piece)
                else:
                    out.extend(piece)
            continue
        n = len(block)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for idx in range(n - 1, -1, -1):
            best_score = 0.0
            best_end = -1
            i = idx
            frag = block[idx]
            while i < n and frag in freq:
                f = freq[frag]
                if f:
                    candidate = log(f) - logtotal + score[i + 1]
                    if best_end < 0 or candidate >= best_score:
                        best_score, best_end = candidate, i
                i += 1
                frag = block[idx : i + 1]
            if best_end < 0:
                best_score = log(freq.get(block[idx]) or 1) - logtotal + score[idx + 1]
                best_end = idx
            score[idx] = best_score
            end[idx] = best_end
        x = 0
        buf = ""
        while x < n:
            y = end[x] + 1
            word = block[x:y]
            if y - x == 1 and eng(word):
                buf += word
            else:
                if buf:
                    append(buf)
                    buf = ""
                append(word)
            x = y
        if buf:
            append(buf)
    return out
