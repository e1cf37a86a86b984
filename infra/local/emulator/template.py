"""The stack's CloudFormation template, synthesized in-process by the same CDK app `cdk deploy` runs."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from crisiswatch.constants import STACK_NAME


def synthesize(context: dict[str, Any]) -> dict:
    """Synthesize with the given context (merged over cdk.json's); layers are not built."""
    # Read when jsii starts node. These machines have Node 20 (end of life); see docs/infra.md.
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app import build_app  # imports aws-cdk-lib: only where a template is wanted

    with tempfile.TemporaryDirectory(prefix="crisiswatch-synth-") as outdir:
        app, _ = build_app(context=context, skip_bundling=True, outdir=outdir)
        return app.synth().get_stack_by_name(STACK_NAME).template
