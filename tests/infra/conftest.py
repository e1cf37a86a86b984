"""Infra tests: the CDK app is synthesized once per session (a synth costs seconds), offline, with
layer bundling skipped. The nag plugins are part of build_app, so the synth itself proves nag passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infra_helpers import TEST_CONTEXT  # noqa: E402  (sets the environment and sys.path too)


@pytest.fixture(scope="session")
def app_and_stack():
    from infra.app import build_app

    return build_app(context=TEST_CONTEXT, skip_bundling=True)


@pytest.fixture(scope="session")
def template(app_and_stack):
    from aws_cdk.assertions import Template

    _, stack = app_and_stack
    return Template.from_stack(stack)  # runs the cdk-nag plugins: raises on unacknowledged findings


@pytest.fixture(scope="session")
def resources(template) -> dict[str, dict]:
    return template.to_json()["Resources"]
