"""Scorer benchmark: ``python -m tools.scoring.bench`` (``make bench``).

In one run, pinned to one CPU core, prints one JSON object with:

- ``scorer_posts_per_s``: the full scorer (normalize, jieba, sentiment, lexicon, risk) on the posts;
- ``naive_posts_per_s``: ``SnowNLP(text).sentiments`` on the same posts, and ``ratio``;
- ``cold_start_s``: a fresh interpreter, from ``import crisiswatch.scoring`` to the first score
  returned (median of several runs);
- ``layer_mb_unzipped``: jieba + snownlp + opencc as installed, less what the layer build trims
  (see docs/scoring.md), plus our package data; and the model files' sizes;
- ``adversarial_ms``: ms per input for normalize, score, match, fold and the story fingerprint on
  the adversarial texts of ``tools.scoring.adversarial`` (at the largest post size), and for
  ``html_to_text`` on its adversarial HTML (issue 11: no super-linear work on untrusted text).
  ``--adversarial-only`` prints just these (a table on stderr, the JSON on stdout).

Posts come from ``--data`` (a CSV with a ``text`` column; default: the shared weibo2018 set when it
exists) or, without data, from built-in synthetic sentences.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path("../shared/data/sentiment/weibo2018_train.csv")
SYNTHETIC = [
    "鲜味坊的鸡肉变质了，吃完拉肚子[怒][怒] 再也不买了",
    "今天和朋友去吃了火锅，味道真不错，服务也很热情[哈哈]",
    "转发微博//@某媒体:某品牌门店发生火灾，暂无人员伤亡",
    "這家店的服務態度太差了，等了一個小時還沒上菜",
    "{%#周末去哪儿#%}公园里的花开了，好美 {%网页链接%}",
    "一点也不好吃，价格还贵，客服也不理人",
    "[doge][doge]",
    "手机用了三天就黑屏死机，售后推诿不给退货 http://t.cn/A6abcdE",
]
COLD_START = (
    "import time; t=time.perf_counter(); "
    "from crisiswatch.scoring import Scorer; Scorer(brand_terms=['鲜味坊']).score_text('鲜味坊的菜变质了，吃完拉肚子'); "
    "print(time.perf_counter()-t)"
)
# What the scorer needs at run time: jieba without its paddle model (lac_small), keyword extraction
# (analyse) and POS tagger (posseg), none of which the scorer imports; OpenCC; our package data.
# snownlp is not needed at run time at all (we read its model format ourselves; training only).
RUNTIME_SKIP = {"jieba": ("lac_small", "analyse", "posseg"), "opencc": (), "snownlp": None}


def pin_one_core() -> int | None:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return core
    return None


def load_posts(path: Path | None, limit: int) -> list[str]:
    if path is not None and path.is_file():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            texts = [row["text"] for row in csv.DictReader(handle)]
        return texts[:limit]
    return (SYNTHETIC * (limit // len(SYNTHETIC) + 1))[:limit]


def throughput(fn, texts: list[str], min_seconds: float = 1.0) -> float:
    fn(texts[0])
    done = 0
    start = time.perf_counter()
    while True:
        for text in texts:
            fn(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def cold_start(runs: int, core: int | None) -> float:
    times = []
    env = dict(os.environ)
    for _ in range(runs):
        cmd = [sys.executable, "-c", COLD_START]
        if core is not None and sys.platform.startswith("linux"):
            cmd = ["taskset", "-c", str(core), *cmd]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
        except (FileNotFoundError, subprocess.CalledProcessError):
            out = subprocess.run(cmd[-3:], capture_output=True, text=True, check=True, env=env).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return statistics.median(times)


def _package_dir(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _size(path: Path, skip: tuple[Path, ...] = ()) -> int:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts and not any(p.is_relative_to(s) for s in skip):
            total += p.stat().st_size
    return total


def layer_size() -> dict[str, float]:
    """Unzipped MB of what the scorer's layer must hold (sources and data, without __pycache__)."""
    sizes: dict[str, float] = {}
    total = 0
    for name, skip in RUNTIME_SKIP.items():
        folder = _package_dir(name)
        if folder is None:
            continue
        if skip is None:
            sizes[f"{name}_not_needed"] = round(_size(folder) / 1e6, 2)
            continue
        size = _size(folder, tuple(folder / s for s in skip))
        sizes[name] = round(size / 1e6, 2)
        total += size
    data = Path(__file__).resolve().parents[2] / "functions" / "crisiswatch" / "scoring" / "data"
    sizes["crisiswatch_data"] = round(_size(data) / 1e6, 2)
    total += _size(data)
    sizes["total"] = round(total / 1e6, 2)
    return sizes


def _ms_per_call(fn, value: str, min_seconds: float = 0.2) -> float:
    fn(value)  # warm caches and lazy loads, as a warm Lambda has them
    calls, start = 0, time.perf_counter()
    while True:
        fn(value)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or calls >= 50:
            return 1000 * elapsed / calls


def adversarial(scorer) -> dict[str, object]:
    """ms per input on the adversarial texts, at the largest post size."""
    from crisiswatch.incidents.stories import _fingerprint
    from crisiswatch.ingest.fields import _html_to_text
    from crisiswatch.rules import _fold, rule_for
    from crisiswatch.scoring.normalize import normalize
    from crisiswatch.vocabulary import Watch
    from tools.scoring.adversarial import HTML, MAX_TEXT_CHARS, TEXTS

    rule = rule_for(
        Watch(id="bench", name="鲜味坊", keywords=["鲜味坊", "变质", "xwf food"], exclude=["广告"])
    )
    steps = {
        "normalize": normalize,
        "score": scorer.score_text,
        "match": rule.match,  # folds the text, then looks for each term
        "fold": _fold,  # uncached: a cache hit would time nothing
        "fingerprint": _fingerprint,
    }
    texts = {
        name: {step: round(_ms_per_call(fn, make(MAX_TEXT_CHARS)), 2) for step, fn in steps.items()}
        for name, make in TEXTS.items()
    }
    html = {
        name: {"html_to_text": round(_ms_per_call(_html_to_text, make(MAX_TEXT_CHARS)), 2)}
        for name, make in HTML.items()
    }
    return {"chars": MAX_TEXT_CHARS, "texts": texts, "html": html}


def _print_adversarial(figures: dict[str, object]) -> None:
    rows = [(name, cells) for group in ("texts", "html") for name, cells in figures[group].items()]
    columns = list(dict.fromkeys(c for _, cells in rows for c in cells))
    out = [f"adversarial inputs of {figures['chars']:,} characters, ms per input", ""]
    out.append(f"{'input':24}" + "".join(f"{c:>14}" for c in columns))
    for name, cells in rows:
        out.append(
            f"{name:24}" + "".join(f"{cells[c]:>14.2f}" if c in cells else f"{'':>14}" for c in columns)
        )
    sys.stderr.write("\n".join(out) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scoring.bench")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with a text column")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--skip-naive", action="store_true", help="do not time SnowNLP (2.4 s import)")
    parser.add_argument("--adversarial-only", action="store_true", help="only the adversarial inputs")
    args = parser.parse_args(argv)

    core = pin_one_core()
    if args.adversarial_only:
        from crisiswatch.scoring import Scorer

        figures = adversarial(Scorer(brand_terms=["鲜味坊"]))
        _print_adversarial(figures)
        sys.stdout.write(json.dumps({"core": core, "adversarial_ms": figures}, ensure_ascii=False) + "\n")
        return 0
    texts = load_posts(args.data, args.posts)
    cold = cold_start(args.cold_runs, core)

    from crisiswatch.scoring import Scorer

    scorer = Scorer(brand_terms=["鲜味坊"])
    scorer_rate = throughput(scorer.score_text, texts)
    result: dict[str, object] = {
        "posts": len(texts),
        "source": str(args.data) if args.data and args.data.is_file() else "synthetic",
        "core": core,
        "scorer_posts_per_s": round(scorer_rate),
        "cold_start_s": round(cold, 3),
    }
    if not args.skip_naive:
        t = time.perf_counter()
        from snownlp import SnowNLP

        result["naive_import_s"] = round(time.perf_counter() - t, 2)
        naive_rate = throughput(
            lambda text: SnowNLP(text).sentiments if text.strip() else 0.5, texts[:500], 2.0
        )
        result["naive_posts_per_s"] = round(naive_rate, 1)
        result["ratio"] = round(scorer_rate / naive_rate, 1)
    data = Path(__file__).resolve().parents[2] / "functions" / "crisiswatch" / "scoring" / "data"
    result["model_files_kb"] = {
        p.name: round(p.stat().st_size / 1024) for p in sorted(data.iterdir()) if p.is_file()
    }
    result["layer_mb_unzipped"] = layer_size()
    result["adversarial_ms"] = adversarial(scorer)
    _print_adversarial(result["adversarial_ms"])
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
