"""What goes into the layers (no pip run here: tests stay offline and fast)."""

from __future__ import annotations

from infra import packaging
from layers import build


def test_deps_layer_is_pyproject_minus_boto3_and_nlp():
    spec = build.layer_spec("deps")
    names = {build._name(r) for r in spec.requirements}
    assert "boto3" not in names and not names & set(build.NLP_PACKAGES)
    assert {"aws-lambda-powertools", "pydantic"} <= names
    assert all("==" in r for r in spec.requirements)  # pinned in pyproject, not here
    assert "--only-binary=:all:" in spec.pip_args and "manylinux2014_aarch64" in spec.pip_args
    assert spec.use_constraints
    assert "botocore" in spec.drop_packages


def test_nlp_layer_is_jieba_trimmed_and_snownlp_ships_in_no_layer():
    spec = build.layer_spec("nlp")
    assert {build._name(r) for r in spec.requirements} == {"jieba"}
    assert "snownlp" not in {build._name(r) for r in build.layer_spec("deps").requirements}
    assert "--no-deps" in spec.pip_args and "--platform" not in spec.pip_args  # pure Python sdists
    assert "jieba/lac_small" in spec.trim and "snownlp/seg/data.txt" in spec.trim
    assert not any(t.endswith(".marshal.3") for t in spec.trim)  # the Python 3 models stay


def test_asset_hash_is_stable_and_distinct():
    assert build.asset_hash("deps") == build.asset_hash("deps")
    assert build.asset_hash("deps") != build.asset_hash("nlp")


def test_nlp_layer_drops_jieba_subpackages_no_lambda_code_imports():
    spec = build.layer_spec("nlp")
    dropped = {"jieba.analyse", "jieba.posseg"}
    assert {"jieba/analyse", "jieba/posseg"} <= set(spec.trim)  # 11.7 MB of the 18 MB jieba installs
    modules = packaging.discover_modules(packaging.FUNCTIONS_DIR, packaging.PACKAGE)
    importers = {
        module
        for module, path in modules.items()
        for base, names in packaging.absolute_imports(path, module)
        if base in dropped or (base == "jieba" and {f"jieba.{n}" for n in names} & dropped)
    }
    assert importers == set(), "a trimmed jieba subpackage is imported by Lambda code"
    # jieba's fallback (HMM mode, no shipped dictionary) needs its dictionary and finalseg.
    assert not any(
        t.startswith(("jieba/dict.txt", "jieba/finalseg/__init__", "jieba/__init__")) for t in spec.trim
    )
