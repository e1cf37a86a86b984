"""Builds the Lambda layers with pip on this machine: no Docker.

Two layers, both for python3.12 on arm64 (see crisiswatch.constants.LAMBDA_RUNTIME):
- ``deps``: the run-time dependencies from pyproject.toml ``[project].dependencies`` except boto3
  (the Lambda runtime ships it), jieba, and snownlp (training only: the scorer reads the trained
  model file itself). Compiled wheels (pydantic-core, wrapt) are fetched for manylinux aarch64 /
  CPython 3.12, whatever this machine runs.
- ``nlp``: jieba, pure Python (sdist, so no --platform), trimmed of what is never loaded: jieba's
  paddle model, its Jython pickles, and ``jieba.analyse`` and ``jieba.posseg`` (keyword extraction
  and part-of-speech tagging, 11.7 MB: nothing in crisiswatch imports them). The scorer segments
  with its own copy of jieba's algorithm and dictionary; jieba is its fallback (HMM mode, or
  without the shipped dictionary), which needs only ``jieba/__init__``, ``dict.txt`` and
  ``jieba.finalseg``.

The CDK app uses ``LocalPipBundling`` as the ``local`` bundler of an asset, so CDK never pulls the
bundling image. Run it by hand to inspect a layer: ``python -m layers.build nlp /tmp/nlp``.
Version pins live in pyproject.toml (direct) and constraints.txt (transitive).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / "constraints.txt"

PYTHON_VERSION = "3.12"
# Lambda python3.12 runs on Amazon Linux 2023 (glibc 2.34): both manylinux tags load there.
BINARY_PLATFORM_ARGS = [
    "--platform", "manylinux2014_aarch64",
    "--platform", "manylinux_2_28_aarch64",
    "--only-binary=:all:",
    "--python-version", PYTHON_VERSION,
    "--implementation", "cp",
]  # fmt: skip
NLP_PACKAGES = ("jieba",)
# Needed to train the sentiment model and for the bench's naive baseline, never at run time: the
# scorer reads the trained model file itself (crisiswatch.scoring.sentiment). Kept out of layers.
TRAINING_ONLY = ("snownlp",)
# Shipped by the Lambda Python runtime; a second copy in a layer would shadow the runtime's boto3
# stack with a botocore that the runtime's boto3 was not built against.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "python_dateutil",
    "six",
    "urllib3",
)

# Relative to python/ in the layer. Each path was checked against what jieba.lcut (HMM on and off)
# opens at run time; tests/infra/test_infra_layers.py checks that no crisiswatch module imports a
# trimmed package.
NLP_TRIM = (
    "jieba/lac_small",  # paddle model, only for jieba.enable_paddle()
    "jieba/finalseg/*.p",  # Jython-only pickles; CPython imports the .py tables
    "jieba/analyse",  # keyword extraction (TF-IDF, TextRank, 6 MB idf.txt): never imported
    "jieba/posseg",  # part-of-speech tagging (5.7 MB of tables): never imported
    "snownlp/seg/data.txt",  # training corpora
    "snownlp/sentiment/neg.txt",
    "snownlp/sentiment/pos.txt",
    "snownlp/tag/199801.txt",
    "snownlp/seg/seg.marshal",  # Python 2 models; Python 3 loads the *.marshal.3 files
    "snownlp/tag/tag.marshal",
    "snownlp/sentiment/sentiment.marshal",
)
COMMON_TRIM = ("bin", "**/__pycache__", "**/tests", "**/*.pyc")


def _name(requirement: str) -> str:
    head = requirement.split(";")[0]
    for sep in "[=<>!~ ":
        head = head.split(sep)[0]
    return head.strip().lower().replace("_", "-")


def project_dependencies() -> list[str]:
    with PYPROJECT.open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


@dataclass(frozen=True)
class LayerSpec:
    name: str
    requirements: tuple[str, ...]
    pip_args: tuple[str, ...]
    trim: tuple[str, ...]
    drop_packages: tuple[str, ...]
    use_constraints: bool = False  # pin transitive dependencies with constraints.txt


def layer_spec(name: str) -> LayerSpec:
    deps = project_dependencies()
    if name == "deps":
        reqs = tuple(r for r in deps if _name(r) not in {"boto3", *NLP_PACKAGES, *TRAINING_ONLY})
        return LayerSpec(name, reqs, tuple(BINARY_PLATFORM_ARGS), COMMON_TRIM, RUNTIME_PROVIDED, True)
    if name == "nlp":
        reqs = tuple(r for r in deps if _name(r) in NLP_PACKAGES)
        return LayerSpec(name, reqs, ("--no-deps",), (*COMMON_TRIM, *NLP_TRIM), ())
    raise ValueError(f"unknown layer {name!r}; expected 'deps' or 'nlp'")


def asset_hash(name: str) -> str:
    """Changes whenever what the layer would contain changes: pins, pip flags, trim rules, this file."""
    spec = layer_spec(name)
    h = hashlib.sha256()
    h.update(json.dumps([spec.requirements, spec.pip_args, spec.trim, spec.drop_packages]).encode())
    if spec.use_constraints and CONSTRAINTS.exists():
        h.update(CONSTRAINTS.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def build(name: str, output_dir: str | Path) -> Path:
    """pip-installs the layer into ``output_dir/python`` and trims it. Returns that directory."""
    spec = layer_spec(name)
    target = Path(output_dir) / "python"
    target.mkdir(parents=True, exist_ok=True)
    constraints = ["-c", str(CONSTRAINTS)] if spec.use_constraints and CONSTRAINTS.exists() else []
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile",  # .pyc from this interpreter would be useless on 3.12
        "--target", str(target), *spec.pip_args, *constraints, *spec.requirements,
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"building layer {name!r} failed: {' '.join(cmd)}\n{result.stderr.strip()}")
    for package in spec.drop_packages:
        for path in [
            *target.glob(package),
            *target.glob(f"{package}.py"),
            *target.glob(f"{package}-*.dist-info"),
        ]:
            _remove(path)
    for pattern in spec.trim:
        for path in sorted(target.glob(pattern), reverse=True):
            _remove(path)
    return target


@jsii.implements(cdk.ILocalBundling)
class LocalPipBundling:
    """CDK local bundler: builds the layer with this machine's pip instead of a container."""

    def __init__(self, name: str) -> None:
        layer_spec(name)  # fail fast on an unknown name
        self.name = name

    def try_bundle(
        self, output_dir: str, *_options: object, **_kw: object
    ) -> bool:  # jsii passes BundlingOptions positionally
        build(self.name, output_dir)
        # Raising (rather than returning False) on failure: False would make CDK fall back to
        # Docker, which is not available here and would hide pip's error.
        return True


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m layers.build {deps|nlp} OUTPUT_DIR")
    out = build(sys.argv[1], sys.argv[2])
    print(f"{sys.argv[1]}: {size_mb(out):.1f} MB unzipped in {out}")
