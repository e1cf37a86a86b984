"""Shared fixtures. AWS is always moto: a moto server in this process with our stack provisioned
from the synthesized CDK template (see infra/local/emulator/runtime.py), reset between tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Never reach real AWS from a test, whatever the machine's environment holds.
for _name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "crisiswatch",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
)

# The local AWS fixtures, for every test directory (after the environment above is in place).
from tests.stack import _local_aws, aws, scenario, simulator, template  # noqa: E402, F401


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"development data not found at {SHARED_DATA}")
    for item in items:
        if "shared_data" in item.keywords and not SHARED_DATA.is_dir():
            item.add_marker(skip)
