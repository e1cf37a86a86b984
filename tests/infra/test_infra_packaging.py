"""Each Lambda ships only what it runs: its handler's imports and their package data.

The assets checked are the ones the synthesized stack really staged (cdk.out/asset.<hash>), and what
a handler needs is what a fresh interpreter loads when it imports the handler module, so a lazy
import the static walk missed fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from infra_helpers import ROOT, function_by_handler

from crisiswatch import constants
from infra import packaging
from tools.package_report import HANDLER_ENV

MODEL_DATA = {
    "crisiswatch/scoring/data/sentiment.marshal.3",
    "crisiswatch/scoring/data/sentiment.json",
    "crisiswatch/scoring/data/jieba_dict.marshal.gz",
    "crisiswatch/scoring/data/crisis_lexicon.json",
}
PROVIDER_MAPPINGS = {
    "crisiswatch/ingest/providers/douyin.json",
    "crisiswatch/ingest/providers/xiaohongshu.json",
}


@pytest.fixture(scope="module")
def assets(app_and_stack, resources) -> dict[str, set[str]]:
    """Function key -> the files (relative paths) of its staged code asset."""
    app, _ = app_and_stack
    outdir = Path(app.outdir)
    found = {}
    for key, spec in constants.FUNCTIONS.items():
        _, fn = function_by_handler(resources, spec.handler)
        asset_hash = fn["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        staged = outdir / f"asset.{asset_hash}"
        assert staged.is_dir(), f"{key}: no staged asset at {staged}"
        found[key] = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
    return found


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Function key -> the crisiswatch modules a fresh interpreter holds after importing its handler."""
    env = {**os.environ, **HANDLER_ENV, "PYTHONPATH": str(ROOT / "functions")}
    out = {}
    for key, spec in constants.FUNCTIONS.items():
        module = packaging.handler_module(spec.handler)
        code = (
            f"import json, sys, {module}; "
            "print(json.dumps(sorted(m for m in sys.modules if m == 'crisiswatch' or m.startswith('crisiswatch.'))))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        out[key] = set(json.loads(result.stdout.splitlines()[-1]))
    return out


def module_file(module: str) -> set[str]:
    path = module.replace(".", "/")
    return {f"{path}.py", f"{path}/__init__.py"}


def test_every_function_has_its_own_asset(assets):
    hashes = {frozenset(files) for files in assets.values()}
    assert len(hashes) == len(constants.FUNCTIONS)


def test_the_asset_is_what_packaging_says(assets):
    for key, spec in constants.FUNCTIONS.items():
        assert assets[key] == set(packaging.shipped_files(spec.handler)), key


def test_the_scorer_ships_the_model_data_and_no_in_memory_adapters(assets):
    assert assets["scorer"] >= MODEL_DATA
    assert not any(f.startswith("crisiswatch/memory/") for f in assets["scorer"])


def test_no_other_function_ships_the_model_data(assets):
    for key, files in assets.items():
        if key != "scorer":
            assert not any(f.startswith("crisiswatch/scoring/") for f in files), key


def test_the_fetcher_ships_the_provider_mappings(assets):
    assert assets["fetcher"] >= PROVIDER_MAPPINGS


def test_nothing_ships_in_memory_adapters_caches_or_tests(assets):
    for key, files in assets.items():
        bad = [
            f for f in files if f.startswith("crisiswatch/memory/") or "__pycache__" in f or "/tests/" in f
        ]
        assert not bad, (key, bad)


def test_every_module_a_handler_loads_is_in_its_asset(assets, loaded):
    for key in constants.FUNCTIONS:
        missing = sorted(m for m in loaded[key] if not module_file(m) & assets[key])
        assert not missing, f"{key} imports {missing} at run time but its asset lacks them"


def test_excludes_are_deterministic():
    handler = constants.FUNCTIONS["scorer"].handler
    assert packaging.asset_excludes(handler) == packaging.asset_excludes(handler)


def test_lazy_relative_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "data").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "model.bin").write_bytes(b"x")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("X = 1\n")
    (pkg / "sub" / "other.py").write_text("")
    (pkg / "lazy.py").write_text("def f():\n    from .sub.leaf import X\n    return X\n")
    (pkg / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.sub.other\n"
    )
    (pkg / "main.py").write_text("import pkg.typed\nfrom pkg import lazy\n")
    files = packaging.shipped_files("pkg.main.handler", tmp_path, "pkg")
    assert files == [
        "pkg/__init__.py",
        "pkg/data/model.bin",
        "pkg/lazy.py",
        "pkg/main.py",
        "pkg/sub/__init__.py",
        "pkg/sub/leaf.py",
        "pkg/typed.py",
    ]
    excludes = packaging.asset_excludes("pkg.main.handler", tmp_path, "pkg")
    assert excludes[-1:] == ["pkg/sub/other.py"]
