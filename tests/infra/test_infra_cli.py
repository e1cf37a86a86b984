"""The real CDK CLI (pinned v2 in package.json) synthesizes the app from cdk.json."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from infra_helpers import ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"


@pytest.mark.skipif(not CDK.exists(), reason="node_modules/.bin/cdk missing: run `npm ci` first")
def test_cdk_cli_synth(tmp_path):
    out = tmp_path / "cdk.out"
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    env.pop("CDK_DEFAULT_ACCOUNT", None)
    env.pop("CDK_DEFAULT_REGION", None)
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "-c", "skipBundling=true", "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((out / "CrisisWatch.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::StepFunctions::StateMachine",
        "AWS::ApiGateway::RestApi",
        "AWS::Lambda::LayerVersion",
    } <= types
    assert "example endpoint" in result.stderr  # the cdk.json examples are flagged before any deploy
