"""`python -m tools.cost` (`make cost`): replay recorded cascades on the embedded AWS, meter them.

    python -m tools.cost [--source ced|generated] [--small] [--json PATH] [--quiet]

Source: the development data (`../shared/data/streams/ced`, beside the repository) when it is
there: the first `CED_EVENTS` events, each cascade's first `CED_HOURS` hours (430 posts, 170
ticks with new posts: two minutes, more on a loaded machine); otherwise a recording generated in
the same format (`tools/cost/recording.py`). The run says which. The replay's own output goes to stderr; the table to stdout, its last line
one JSON object (`tools/cost/report.py` says what each figure is).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from tools.cost.meter import Meter
from tools.cost.recording import BRAND, SIZES, write_recording
from tools.cost.report import build, render

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED_CED = REPOSITORY.parent / "shared" / "data" / "streams" / "ced"
CED_EVENTS = 5
CED_HOURS = 2.0
# What the template sets and the emulator overrides (quieter logs, no metrics): put back, so the
# handlers write what the deployed functions would, and the log bytes are CloudWatch's.
DEPLOYED_SETTINGS = ("LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_DISABLED")


def ced_files() -> tuple[Path, Path] | None:
    events, posts = SHARED_CED / "events.csv.gz", SHARED_CED / "posts.csv.gz"
    return (events, posts) if events.is_file() and posts.is_file() else None


@contextlib.contextmanager
def deployed_observability() -> Iterator[None]:
    """The handlers log at the template's level and emit their metrics (EMF lines), as deployed."""
    from infra.local.emulator.runtime import LocalAws

    export = LocalAws._export_environment

    def export_as_deployed(aws: LocalAws) -> None:
        export(aws)
        deployed: dict[str, str] = {}
        for function in aws.stack.functions.values():
            if function.handler.startswith("crisiswatch."):
                deployed.update(function.environment)
        for name in DEPLOYED_SETTINGS:
            if name in deployed:
                os.environ[name] = deployed[name]
            else:
                os.environ.pop(name, None)

    with mock.patch.object(LocalAws, "_export_environment", export_as_deployed):
        yield


def log_stats(path: Path) -> dict:
    """Bytes and lines the handlers wrote, and the custom metrics their EMF lines define."""
    size = lines = 0
    metrics: set[tuple] = set()
    with path.open("rb") as handle:
        for raw in handle:
            size += len(raw)
            lines += 1
            if b'"_aws"' not in raw:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                record = json.loads(raw)
                for directive in record["_aws"]["CloudWatchMetrics"]:
                    for dimensions in directive.get("Dimensions", [[]]):
                        values = tuple((d, str(record.get(d))) for d in dimensions)
                        for metric in directive.get("Metrics", []):
                            metrics.add((directive.get("Namespace"), metric["Name"], values))
    return {"bytes": size, "lines": lines, "custom_metrics": len(metrics)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=("ced", "generated"), help="default: ced when ../shared is there")
    parser.add_argument("--small", action="store_true", help="the small generated recording (the test's)")
    parser.add_argument("--json", metavar="PATH", help="also write the report there")
    parser.add_argument("--quiet", action="store_true", help="do not show the replay's own output")
    parser.add_argument("--handler-log", metavar="PATH", help="keep the handlers' log there")
    args = parser.parse_args(argv)

    found = ced_files()
    source = args.source or ("ced" if found else "generated")
    if source == "ced" and not found:
        print(f"no development data at {SHARED_CED}", file=sys.stderr)
        return 2
    progress = io.StringIO() if args.quiet else sys.stderr
    with tempfile.TemporaryDirectory(prefix="crisiswatch-cost-") as tmp:
        if source == "ced":
            events, posts = found
            kwargs: dict = {"events_limit": CED_EVENTS, "hours": CED_HOURS}
            selection = f"the first {CED_EVENTS} CED cascades x {CED_HOURS:g} h (dev data, {SHARED_CED})"
        else:
            size = "small" if args.small else "default"
            events, posts = write_recording(Path(tmp) / "generated", size)
            kwargs = {"events_limit": None, "hours": None, "keywords": [BRAND]}
            selection = (
                f"the generated recording ({size}: {len(SIZES[size])} cascades; no ../shared data used)"
            )
        print(f"measuring {selection}", file=sys.stderr, flush=True)
        from infra.local.drivers.replay import run_replay  # CDK and moto: only once needed

        log_path = Path(args.handler_log or Path(tmp) / "handlers.log")
        started = time.monotonic()
        with (
            log_path.open("w", encoding="utf-8") as log,
            deployed_observability(),
            Meter(functions_only=True) as meter,
        ):
            replay = run_replay(events, posts, engine="moto", out=progress, handler_log=log, **kwargs)
        wall = time.monotonic() - started
        logs = log_stats(log_path)
    figures = build(meter, replay.to_json(), logs, source, selection)
    figures["wall_seconds"] = round(wall, 1)
    for line in render(figures):
        print(line)
    print(
        f"(measured in {wall:.0f} s: {replay.setup_seconds:.0f} s setting up, {replay.wall_seconds:.0f} s "
        f"replaying, of which {meter.overhead_seconds:.0f} s the meter's own bookkeeping)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0 if replay.passed else 1
