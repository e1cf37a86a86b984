"""What each Lambda ships and how long its handler takes to import: ``make sizes``.

``python -m tools.package_report [--layers-dir DIR] [--runs 5]`` prints, per function:

- its code asset (``infra.packaging.shipped_files``: what ``cdk synth`` stages), files, unzipped
  and zipped bytes (zipfile, deflate level 9);
- the layers attached to it and their sizes, built with ``layers.build`` into ``--layers-dir``
  (default ``.cache/layers``, one directory per layer recipe hash, so a rebuild happens only when
  the recipe changes; the first build takes about a minute and needs PyPI);
- the fresh-process import time of its handler module, median of ``--runs`` interpreters, with
  only the function's asset on ``PYTHONPATH`` (so a module missing from the asset fails here too)
  and after one untimed warm-up run (which writes ``__pycache__``);

then the scorer's cold start: a fresh interpreter, from ``import crisiswatch.handlers.scorer`` to
the first ``Scorer(...).score_text(...)``, median of ``--runs``. Times are wall-clock and CPU
(``time.process_time``) milliseconds: on a shared machine the CPU figure is the steadier one. The layers are built for Lambda
(python3.12, arm64), so the timings use this interpreter's own packages (the venv) for the
dependencies. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from crisiswatch import constants
from infra import packaging

ROOT = packaging.ROOT
DEFAULT_LAYERS_DIR = ROOT / ".cache" / "layers"
HANDLER_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": constants.SERVICE,
    "AWS_DEFAULT_REGION": constants.DEFAULT_REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
# Each prints wall-clock and CPU milliseconds: CPU time is the steadier figure on a shared machine.
_TIMED = (
    "import time; t, c = time.perf_counter(), time.process_time(); {body}; "
    "print(round((time.perf_counter() - t) * 1000, 1), round((time.process_time() - c) * 1000, 1))"
)
IMPORT_SNIPPET = _TIMED.replace("{body}", "import {module}")
FIRST_SCORE_SNIPPET = _TIMED.format(
    body="import crisiswatch.handlers.scorer; from crisiswatch.scoring import Scorer; "
    "Scorer(brand_terms=['鲜味坊']).score_text('鲜味坊的菜变质了，吃完拉肚子')"
)


def tree_sizes(root: Path, files: list[Path]) -> dict[str, int]:
    """Files, unzipped bytes and zipped bytes (as Lambda receives them: zipfile, deflate 9)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(files):
            archive.write(path, path.relative_to(root).as_posix())
    return {
        "files": len(files),
        "unzipped": sum(p.stat().st_size for p in files),
        "zipped": len(buffer.getvalue()),
    }


def layers_for(key: str) -> list[str]:
    """As infra.constructs.function.make_function attaches them."""
    return ["deps", "nlp"] if constants.FUNCTIONS[key].needs_nlp else ["deps"]


def built_layer(name: str, layers_dir: Path) -> Path:
    from layers import build  # imports aws_cdk (for the CDK bundler): only when layers are measured

    out = layers_dir / f"{name}-{build.asset_hash(name)[:12]}"
    if not (out / ".complete").exists():
        shutil.rmtree(out, ignore_errors=True)
        sys.stderr.write(f"building layer {name} into {out} ...\n")
        build.build(name, out)
        (out / ".complete").touch()
    return out


def layer_sizes(name: str, layers_dir: Path) -> dict[str, int]:
    out = built_layer(name, layers_dir)
    return tree_sizes(out, [p for p in (out / "python").rglob("*") if p.is_file()])


def stage_asset(key: str, into: Path) -> Path:
    """A copy of the function's code asset (exactly ``shipped_files``) under ``into/key``."""
    target = into / key
    for rel in packaging.shipped_files(constants.FUNCTIONS[key].handler):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(packaging.FUNCTIONS_DIR / rel, target / rel)
    return target


def fresh_runs(code: str, pythonpath: Path, runs: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of ``runs`` fresh interpreters running ``code``."""
    env = {**os.environ, **HANDLER_ENV, "PYTHONPATH": str(pythonpath)}

    def once() -> tuple[float, float]:
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=tempfile.gettempdir(),  # not the repository: nothing else on the path
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"fresh import failed: {code}\n{result.stderr.strip()[-2000:]}")
        wall, cpu = result.stdout.split()[-2:]
        return float(wall), float(cpu)

    once()  # warm-up: writes __pycache__ (Lambda code runs from .py; so did the before figures)
    return [once() for _ in range(runs)]


def report(layers_dir: Path, runs: int, measure_layers: bool = True) -> dict:
    layer_figures = (
        {name: layer_sizes(name, layers_dir) for name in ("deps", "nlp")} if measure_layers else {}
    )
    functions: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="crisiswatch-assets-") as tmp:
        for key, spec in constants.FUNCTIONS.items():
            asset = stage_asset(key, Path(tmp))
            code = tree_sizes(asset, [p for p in asset.rglob("*") if p.is_file()])
            module = packaging.handler_module(spec.handler)
            times = fresh_runs(IMPORT_SNIPPET.format(module=module), asset, runs)
            attached = layers_for(key)
            entry: dict = {
                "code": code,
                "layers": attached,
                "import_ms_median": statistics.median(t[0] for t in times),
                "import_cpu_ms_median": statistics.median(t[1] for t in times),
                "import_ms_runs": [t[0] for t in times],
            }
            if measure_layers:
                entry["total_unzipped"] = code["unzipped"] + sum(
                    layer_figures[n]["unzipped"] for n in attached
                )
                entry["total_zipped"] = code["zipped"] + sum(layer_figures[n]["zipped"] for n in attached)
            if key == "scorer":
                cold = fresh_runs(FIRST_SCORE_SNIPPET, asset, runs)
                entry["first_score_ms_median"] = statistics.median(t[0] for t in cold)
                entry["first_score_cpu_ms_median"] = statistics.median(t[1] for t in cold)
                entry["first_score_ms_runs"] = [t[0] for t in cold]
            functions[key] = entry
    return {"functions": functions, "layers": layer_figures, "runs": runs, "python": sys.version.split()[0]}


def print_table(figures: dict) -> None:
    layers = figures["layers"]
    print(
        f"{'function':<10} {'code files':>10} {'code unzipped':>14} {'code zipped':>12}  layers (unzipped/zipped)"
    )
    for key, f in figures["functions"].items():
        c = f["code"]
        attached = ", ".join(
            f"{n} {layers[n]['unzipped']:,}/{layers[n]['zipped']:,}" if n in layers else n
            for n in f["layers"]
        )
        print(f"{key:<10} {c['files']:>10} {c['unzipped']:>14,} {c['zipped']:>12,}  {attached}")
    print()
    print(f"{'function':<10} {'import ms':>10} {'CPU ms':>8}  (medians; wall-clock runs)")
    for key, f in figures["functions"].items():
        print(f"{key:<10} {f['import_ms_median']:>10} {f['import_cpu_ms_median']:>8}  {f['import_ms_runs']}")
    scorer = figures["functions"]["scorer"]
    print(
        f"\nscorer cold start, import to first score: {scorer['first_score_ms_median']} ms "
        f"(CPU {scorer['first_score_cpu_ms_median']} ms; median of {figures['runs']}: {scorer['first_score_ms_runs']})\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.package_report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--layers-dir", type=Path, default=DEFAULT_LAYERS_DIR, help="where layers are built")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per timing")
    parser.add_argument("--skip-layers", action="store_true", help="no layer build (offline)")
    args = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    figures = report(args.layers_dir, args.runs, measure_layers=not args.skip_layers)
    print_table(figures)
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
