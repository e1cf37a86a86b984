"""Helpers for the infra tests (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# No test may reach AWS, print Node's end-of-life banner or send CLI telemetry.
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.pop("CDK_DEFAULT_ACCOUNT", None)
os.environ.pop("CDK_DEFAULT_REGION", None)
for path in (ROOT, ROOT / "functions"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# Deliberately unlike cdk.json's example, to prove the stack follows its context: two platforms,
# a subscriber per protocol, custom ack timeouts and thresholds.
TEST_CONTEXT: dict[str, Any] = {
    "watches": [
        {"id": "acme", "name": "ACME 汽车", "keywords": ["ACME", "艾克米"], "brand_terms": ["艾克米"]},
        {
            "id": "acme-phone",
            "name": "ACME 手机",
            "keywords": ["ACME手机"],
            "platforms": ["weibo", "bilibili"],
        },
    ],
    "subscribers": [
        {"name": "duty-sms", "protocol": "sms", "endpoint": "+8613800000000", "levels": ["red", "orange"]},
        {
            "name": "pr-mail",
            "protocol": "email",
            "endpoint": "pr@example.com",
            "levels": ["yellow", "orange", "red"],
        },
        {"name": "analysts", "protocol": "email", "endpoint": "analysts@example.com", "levels": ["blue"]},
    ],
    "schedules": {"weibo": 2, "bilibili": 10},
    "fetchConcurrency": {"bilibili": 3},
    "credentials": {"bilibili": "crisiswatch/bilibili-cookie"},
    "ackTimeoutSeconds": {"yellow": 3600, "orange": 900, "red": 300},
    "levelThresholds": {"red": {"min_negatives": 100}},
    "consoleUrl": "https://console.example.com/incidents",
    "weiboBaseUrl": "https://m.weibo.cn",
    "heartbeatSilentMinutes": 90,
}


def of_type(resources: dict[str, dict], cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in resources.items() if v["Type"] == cfn_type}


def logical_id(resources: dict[str, dict], cfn_type: str, prefix: str) -> str:
    """The one resource of `cfn_type` whose logical id starts with `prefix` (construct path, joined)."""
    found = [k for k in of_type(resources, cfn_type) if k.startswith(prefix)]
    assert len(found) == 1, f"expected one {cfn_type} {prefix}*, found {found}"
    return found[0]


# CDK's own Lambda behind every AwsCustomResource (here: the deploy-time watch seed).
CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"


def expected_stage(rest_api: str, access_logs: str, rate_limit: int, burst_limit: int) -> dict:
    """The stage every REST API gets from `infra.constructs.api.stage_options`."""
    from aws_cdk.assertions import Match

    from crisiswatch import constants

    return {
        "RestApiId": {"Ref": rest_api},
        "StageName": constants.API_STAGE_NAME,
        "TracingEnabled": True,
        "AccessLogSetting": {
            "DestinationArn": {"Fn::GetAtt": [access_logs, "Arn"]},
            "Format": Match.string_like_regexp("requestId"),
        },
        "MethodSettings": Match.array_with(
            [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": rate_limit,
                        "ThrottlingBurstLimit": burst_limit,
                    }
                )
            ]
        ),
    }


def our_functions(resources: dict[str, dict]) -> dict[str, dict]:
    """The project's Lambda functions, without CDK's custom-resource provider."""
    return {
        k: v
        for k, v in of_type(resources, "AWS::Lambda::Function").items()
        if not k.startswith(CUSTOM_RESOURCE_PROVIDER)
    }


def function_by_handler(resources: dict[str, dict], handler: str) -> tuple[str, dict]:
    found = [
        (k, v)
        for k, v in of_type(resources, "AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == handler
    ]
    assert len(found) == 1, handler
    return found[0]


def flatten_join(value: Any) -> str:
    """A Fn::Join of strings and references as one string, references shown as <ref>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(flatten_join(p) for p in parts)
    return "<ref>"


def state_machine_definition(resources: dict[str, dict]) -> dict:
    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    return json.loads(flatten_join(machine["Properties"]["DefinitionString"]))
