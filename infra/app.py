"""CDK entry point (`cdk.json`: `python -m infra.app`), also usable in-process:

    app, stack = build_app(context={"subscribers": []}, skip_bundling=True)
    template = app.synth().get_stack_by_name(stack.stack_name).template

Context comes from cdk.json's "context" (the examples), overlaid with `context=` (in-process) or
`-c key=value` (CLI). The environment is the `account`/`region` context if given, else
CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION (set by the CLI from your credentials), else the offline
defaults in crisiswatch.constants (so synth and tests need no AWS credentials).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "functions"):  # the `crisiswatch` package and `layers`, installed or not
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks, ServerlessChecks  # noqa: E402

from crisiswatch import constants  # noqa: E402
from infra.context import load_settings  # noqa: E402
from infra.stack import CrisisWatchStack  # noqa: E402

BUNDLING_STACKS = "aws:cdk:bundling-stacks"
CDK_JSON = ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    if not CDK_JSON.exists():
        return {}
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true", "yes"})


def build_app(
    context: dict[str, Any] | None = None, skip_bundling: bool = False, outdir: str | None = None
) -> tuple[cdk.App, CrisisWatchStack]:
    """The crisiswatch app with its one stack and the cdk-nag validation plugins.

    Raises `infra.context.ContextError` (a ValueError) for bad context, before any construct exists.
    `skip_bundling` (or the context `skipBundling=true`) leaves the layers unbuilt: enough for
    template tests and the local runtime, which never deploys them.
    """
    app = cdk.App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    get = app.node.try_get_context
    if skip_bundling or _truthy(get("skipBundling")):
        # Overrides what the CLI passes (it sets this context itself).
        app.node.set_context(BUNDLING_STACKS, [])
    settings = load_settings(get)
    env = cdk.Environment(
        account=str(get("account") or os.environ.get("CDK_DEFAULT_ACCOUNT") or constants.DEFAULT_ACCOUNT),
        region=str(get("region") or os.environ.get("CDK_DEFAULT_REGION") or constants.DEFAULT_REGION),
    )
    stack = CrisisWatchStack(app, constants.STACK_NAME, env=env, settings=settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
