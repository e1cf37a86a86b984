"""Word segmentation: jieba's accurate mode, its tokens exactly, loaded once per process.

jieba's own start-up builds (or reads from /tmp) a 9 MB cache of its 349,000-word dictionary: about
0.6 s, and more on a Lambda cold start where /tmp is empty. We ship instead jieba's prefix
dictionary trimmed to its words of frequency 10 or more, plus the negators, intensifiers and crisis
terms it knows (``scoring/data/jieba_dict.marshal.gz``, built by
``train-sentiment`` from jieba's own ``dict.txt``): 0.09 s to load. The sentiment model is trained
on the same dictionary it runs with, so trimming changes nothing between training and serving.

Without HMM (our default), jieba's accurate mode is a dictionary lookup plus a dynamic programme.
:func:`fast_cut` is that algorithm (``Tokenizer.get_DAG`` + ``calc`` + ``__cut_DAG_NO_HMM`` of jieba
0.42.1) fused into one pass: the same tokens, token for token (tests compare it with
``jieba.lcut(HMM=False)`` on our sentences and on 100,000 real posts), 1.6x faster, and the
scorer need not ``import jieba`` at all (0.1 s, or 0.26 s where no .pyc is cached, as on Lambda).
jieba itself is imported only for HMM mode or when the shipped dictionary is missing.

Brand terms are added to the dictionary exactly as ``jieba.Tokenizer.add_word`` adds them, so that
a brand such as 鲜味坊 stays one token. The dictionary is shared by every ``Scorer`` in the
process; adding a word only changes how that word's own characters are cut.
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

# crisiswatch/scoring/data/: package data of crisiswatch.scoring, it ships with the package.
DATA_DIR = Path(__file__).resolve().parent / "data"
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


class Dictionary:
    """jieba's prefix dictionary (``Tokenizer.FREQ`` and ``.total``) and its ``add_word``."""

    def __init__(self, freq: dict[str, int], total: int) -> None:
        self.FREQ = freq
        self.total = total

    def add_word(self, word: str, freq: int) -> None:
        """``jieba.Tokenizer.add_word(word, freq)`` (without part-of-speech tags)."""
        self.FREQ[word] = freq
        self.total += freq
        for end in range(1, len(word) + 1):
            self.FREQ.setdefault(word[:end], 0)


def clear() -> None:
    """Forget loaded dictionaries and added terms (after the dictionary file is rewritten)."""
    dictionary.cache_clear()
    tokenizer.cache_clear()
    _added.clear()


@lru_cache(maxsize=4)
def dictionary(dict_file: Path | None = DICT_FILE) -> Dictionary:
    """The process's dictionary (``dict_file=None`` or a missing file: jieba's full dictionary)."""
    if dict_file is not None and dict_file.exists():
        return Dictionary(*load_prefix_dict(dict_file))
    tk = _jieba_tokenizer(None)
    return Dictionary(tk.FREQ, tk.total)


def _jieba_tokenizer(dict_file: Path | None) -> Any:
    import jieba  # only for HMM mode, or without the shipped dictionary

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    if dict_file is not None and dict_file.exists():
        tk.FREQ, tk.total = load_prefix_dict(dict_file)
        tk.initialized = True
    else:
        tk.initialize()
    return tk


@lru_cache(maxsize=4)
def tokenizer(dict_file: Path | None = DICT_FILE) -> Any:
    """A ``jieba.Tokenizer`` on the same dictionary (shared, so added terms are seen by both)."""
    d = dictionary(dict_file)
    tk = _jieba_tokenizer(dict_file if dict_file is not None and dict_file.exists() else None)
    tk.FREQ = d.FREQ
    tk.total = d.total
    tk.initialized = True
    return tk


def add_terms(terms: list[str] | tuple[str, ...], dict_file: Path | None = DICT_FILE) -> None:
    """Keep these terms whole (brand names, product names)."""
    new = [t for t in terms if t and (dict_file, t) not in _added]
    if not new:
        return
    d = dictionary(dict_file)
    with _lock:
        for term in new:
            d.add_word(term, BRAND_FREQ)
            _added.add((dict_file, term))


def cut(text: str, hmm: bool = False, dict_file: Path | None = DICT_FILE) -> list[str]:
    """jieba's accurate mode. HMM (new-word discovery) is off by default: see docs/scoring.md.

    Without HMM, :func:`fast_cut` gives jieba's exact tokens in about half the time.
    """
    if not text:
        return []
    d = dictionary(dict_file)
    if hmm:
        tk = tokenizer(dict_file)
        tk.total = d.total  # add_word may have moved it
        return tk.lcut(text, HMM=True)
    return fast_cut(text, d.FREQ, d.total)


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
