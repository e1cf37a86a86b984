"""Turn a raw Weibo post into the text that is scored.

What a post looks like on the wire, and what we do with it:

- ``//@user: earlier words`` repost chains: the author's own words come before the first ``//@``;
  the chain is kept apart (it is context, not the author's opinion).
- ``回复@user:`` reply prefixes and ``@user`` mentions: removed (user names are noise).
- ``{%...%}`` markup (the weibo2018 export wraps topics, link titles and locations in it): the inner
  text is kept, ``#`` topic marks are dropped, boilerplate such as ``网页链接`` is removed.
- URLs (``http://t.cn/...``): removed.
- Weibo emoticons ``[怒]``, ``[泪]``, ``[doge]`` and Unicode emoji: pulled out as separate signals
  (jieba would otherwise cut ``[怒]`` into three tokens).
- Full-width letters and digits (NFKC), upper case Latin, runs of repeated characters
  (``哈哈哈哈哈哈`` -> ``哈哈哈``).
- Traditional Chinese: converted to Simplified with OpenCC (``t2s``), loaded only when a post
  contains a Traditional-only character.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_URL = re.compile(r"(?:https?://|www\.)[!-~]+|\bt\.cn/[0-9A-Za-z]+", re.IGNORECASE)
_REPLY = re.compile(r"^\s*回复\s*@[^:：\s]{1,30}\s*[:：]")
# A Weibo nickname is 1-30 characters of CJK, letters, digits, '_' and '-'.
_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff]{1,30}[:：]?")
# ``{%...%}`` is read by ``_replace_markup`` (a linear scan): the regex ``\{%(.*?)%\}`` it replaces
# scanned to the end of the text for every unclosed ``{%`` (quadratic: 100 KB of "{%" took 79 s).
_MARKUP_OPEN, _MARKUP_CLOSE = "{%", "%}"
_MARKUP_BOILERPLATE = re.compile(
    r"^(?:网页链接|显示地图|查看图片|评论配图|微博视频|秒拍视频|O?网页链接|.{0,30}的(?:秒拍|微博|美拍)视频)$"
)
_TOPIC = re.compile(r"#([^#\n]{1,60})#")
_EMOTICON = re.compile(r"\[([^\[\]\s]{1,10})\]")
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001f9ff\U0001fa70-\U0001faff\u2600-\u27bf]"
)
_EMOJI_MODIFIERS = re.compile("[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_REPEAT = re.compile(r"(.)\1{3,}")
_SPACE = re.compile(r"\s+")
_REPOST_SPLIT = re.compile(r"//\s*@")
# What a bare repost says when the author adds nothing of their own.
_EMPTY_REPOST = re.compile(
    r"^(?:转发微博|轉發微博|repost|转发|轉發|分享图片|分享圖片)?[\s。.!！~～]*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A post made ready for scoring."""

    own: str  # the author's own words, normalized (what sentiment is scored on)
    chain: str  # the quoted repost chain, normalized ("" when the post is original)
    emoticons: tuple[str, ...]  # emoticons and emoji in the author's own words, e.g. ("[怒]", "😭")
    chain_emoticons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Everything the post says, own words first (categories and brand terms look here)."""
        return f"{self.own} {self.chain}" if self.chain else self.own

    @property
    def is_empty(self) -> bool:
        return not self.own and not self.emoticons


def _opencc_dir() -> Path:
    spec = importlib.util.find_spec("opencc")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("opencc-python-reimplemented is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


@lru_cache(maxsize=1)
def _traditional_only() -> frozenset[str]:
    """The characters that only Traditional text uses (from OpenCC's tables).

    Reading one 4,000-line table costs a few milliseconds; the converter itself (11 ms) is loaded
    on the first post that needs it.
    """
    try:
        folder = _opencc_dir()
    except ModuleNotFoundError:
        # Scoring goes on (Traditional words then mostly miss the model): say so once, loudly.
        logging.getLogger(__name__).warning("opencc-python-reimplemented missing: no Traditional conversion")
        return frozenset()
    traditional: set[str] = set()
    simplified: set[str] = set()
    with open(folder / "TSCharacters.txt", encoding="utf-8") as lines:
        for line in lines:
            key, _, values = line.rstrip("\n").partition("\t")
            targets = values.split()
            if targets and targets[0] != key:
                traditional.add(key)
            simplified.update(targets)
    with open(folder / "STCharacters.txt", encoding="utf-8") as lines:
        simplified.update(line.partition("\t")[0] for line in lines)
    return frozenset(traditional - simplified)


@lru_cache(maxsize=1)
def _converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified with OpenCC t2s. Simplified text comes back unchanged, cheaply."""
    if _traditional_only().isdisjoint(text):
        return text
    return _converter().convert(text)


def _markup(inner: str) -> str:
    inner = inner.strip()
    if not inner or _MARKUP_BOILERPLATE.match(inner):
        return " "
    return f" {inner} "


def _replace_markup(text: str) -> str:
    r"""Each ``{%inner%}`` (the shortest, leftmost first, as ``re.sub(r"\{%(.*?)%\}", ...)`` with
    DOTALL would) replaced by ``_markup(inner)``, in one pass: O(len(text)).

    Once no ``%}`` follows an opening, none follows any later opening either: the scan stops there
    instead of looking again from every ``{%`` (what made the regex quadratic).
    """
    start = text.find(_MARKUP_OPEN)
    if start < 0:
        return text
    out: list[str] = []
    done = 0
    while start >= 0:
        end = text.find(_MARKUP_CLOSE, start + 2)
        if end < 0:
            break
        out.append(text[done:start])
        out.append(_markup(text[start + 2 : end]))
        done = end + 2
        start = text.find(_MARKUP_OPEN, done)
    out.append(text[done:])
    return "".join(out)


def _clean(text: str) -> tuple[str, tuple[str, ...]]:
    """Normalize one segment of a post; return it and the emoticons pulled out of it."""
    text = _URL.sub(" ", text)
    text = _replace_markup(text)
    text = _MENTION.sub(" ", text)
    text = _TOPIC.sub(r" \1 ", text)
    emoticons: list[str] = [f"[{m}]" for m in _EMOTICON.findall(text)]
    if emoticons:
        text = _EMOTICON.sub(" ", text)
    emoji = _EMOJI.findall(text)
    if emoji:
        emoticons.extend(emoji)
        text = _EMOJI.sub(" ", text)
    text = _EMOJI_MODIFIERS.sub("", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    text = _SPACE.sub(" ", text).strip()
    return text, tuple(emoticons)


def normalize(raw: str | None) -> Normalized:
    """Normalize a raw post. Never raises on odd input; empty input gives an empty result."""
    if not raw:
        return Normalized("", "", ())
    text = unicodedata.normalize("NFKC", raw).lower()
    text = to_simplified(text)
    text = _REPLY.sub("", text)
    parts = _REPOST_SPLIT.split(text, maxsplit=1)
    own_raw = parts[0]
    chain_raw = parts[1] if len(parts) > 1 else ""
    if _EMPTY_REPOST.match(own_raw):
        own_raw = ""
    own, emoticons = _clean(own_raw)
    if not chain_raw:
        return Normalized(own, "", emoticons)
    # Each quoted segment starts with "user:"; drop the user names.
    segments = [re.sub(r"^[^:：\s]{1,30}[:：]", "", seg, count=1) for seg in _REPOST_SPLIT.split(chain_raw)]
    chain, chain_emoticons = _clean(" ".join(segments))
    return Normalized(own, chain, emoticons, chain_emoticons)
