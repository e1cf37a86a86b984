"""The push API: a separate REST API whose one method is authenticated by the function's HMAC check,
the shared secret readable by the push function only, and the incidents API untouched (IAM)."""

from __future__ import annotations

import json

from infra_helpers import expected_stage, function_by_handler, logical_id, of_type

from crisiswatch import constants
from crisiswatch.constants import Env
from infra.constructs.push_api import HMAC_REASON


def _rest_api_of(method: dict) -> str:
    return method["Properties"]["RestApiId"]["Ref"]


def _methods(resources) -> dict[str, dict]:
    return {
        k: v
        for k, v in of_type(resources, "AWS::ApiGateway::Method").items()
        if v["Properties"]["HttpMethod"] != "OPTIONS"
    }


def test_two_rest_apis_and_one_account_role(resources):
    apis = of_type(resources, "AWS::ApiGateway::RestApi")
    assert sorted(k.rstrip("0123456789ABCDEF") for k in apis) == ["ApiRestApi", "PushRestApi"]
    assert len(of_type(resources, "AWS::ApiGateway::Account")) == 1
    # The push stage logs through the account role the incidents API sets: it deploys after it.
    stage = resources[logical_id(resources, "AWS::ApiGateway::Stage", "PushRestApi")]
    account = logical_id(resources, "AWS::ApiGateway::Account", "ApiRestApi")
    assert account in stage.get("DependsOn", [])


def test_post_push_is_the_only_method_without_iam(resources):
    push_api = logical_id(resources, "AWS::ApiGateway::RestApi", "PushRestApi")
    incidents_api = logical_id(resources, "AWS::ApiGateway::RestApi", "ApiRestApi")
    push_fn, _ = function_by_handler(resources, constants.FUNCTIONS["push"].handler)
    unauthenticated = {
        k: m for k, m in _methods(resources).items() if m["Properties"]["AuthorizationType"] != "AWS_IAM"
    }
    (method,) = unauthenticated.values()
    props = method["Properties"]
    assert props["AuthorizationType"] == "NONE"
    assert props["HttpMethod"] == "POST"
    assert _rest_api_of(method) == push_api
    resource = resources[props["ResourceId"]["Ref"]]["Properties"]
    assert resource["PathPart"] == "push"
    assert resource["ParentId"] == {"Fn::GetAtt": [push_api, "RootResourceId"]}
    assert props["Integration"]["Type"] == "AWS_PROXY"
    assert push_fn in json.dumps(props["Integration"]["Uri"])
    assert props["RequestValidatorId"] == {
        "Ref": logical_id(resources, "AWS::ApiGateway::RequestValidator", "PushRestApi")
    }
    assert "application/json" in props["RequestModels"]
    # Everything else belongs to the incidents API, IAM on every method.
    others = [m for k, m in _methods(resources).items() if k not in unauthenticated]
    assert others and all(_rest_api_of(m) == incidents_api for m in others)
    assert all(m["Properties"]["AuthorizationType"] == "AWS_IAM" for m in others)


def test_push_acknowledgements_give_the_hmac_reason(app_and_stack):
    import aws_cdk as cdk

    _, stack = app_and_stack
    acks: dict[str, str] = {}
    for entry in stack.push.method.node.metadata:
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
            acks.update(entry.data)
    assert acks == {
        "AwsSolutions::AwsSolutions-APIG4": HMAC_REASON,
        "AwsSolutions::AwsSolutions-COG4": HMAC_REASON,
    }


def test_push_stage_logs_traces_and_throttles(template, resources):
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        expected_stage(
            logical_id(resources, "AWS::ApiGateway::RestApi", "PushRestApi"),
            logical_id(resources, "AWS::Logs::LogGroup", "PushAccessLogs"),
            constants.PUSH_API_THROTTLE_RATE_LIMIT,
            constants.PUSH_API_THROTTLE_BURST_LIMIT,
        ),
    )


def test_the_secret_is_generated_and_read_only_by_the_push_function(resources):
    ((secret_id, secret),) = of_type(resources, "AWS::SecretsManager::Secret").items()
    props = secret["Properties"]
    assert "SecretString" not in props and props["GenerateSecretString"]["PasswordLength"] >= 32
    assert "KmsKeyId" not in props  # the account's aws/secretsmanager key
    readers = {
        logical
        for logical, policy in of_type(resources, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if secret_id in json.dumps(statement["Resource"])
    }
    assert readers == {logical_id(resources, "AWS::IAM::Policy", "PushPushRole")}
    (statement,) = [
        s
        for s in resources[next(iter(readers))]["Properties"]["PolicyDocument"]["Statement"]
        if secret_id in json.dumps(s["Resource"])
    ]
    assert sorted(statement["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert statement["Resource"] == {"Ref": secret_id}


def test_push_function_environment_and_grants(resources):
    _, fn = function_by_handler(resources, constants.FUNCTIONS["push"].handler)
    env = fn["Properties"]["Environment"]["Variables"]
    secret_id = logical_id(resources, "AWS::SecretsManager::Secret", "PushPushSecret")
    assert secret_id in json.dumps(env[Env.PUSH_SECRET_NAME])  # the name, derived from the secret's ARN
    assert "Fn::Join" in env[Env.PUSH_SECRET_NAME]
    posts_queue = logical_id(resources, "AWS::SQS::Queue", "ScoringPostsQueue")
    assert env[Env.POSTS_QUEUE_URL] == {"Ref": posts_queue}
    assert "WATCHES" not in env and Env.STATE_TABLE in env  # watches are read from the state table
    statements = resources[logical_id(resources, "AWS::IAM::Policy", "PushPushRole")]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    sends = [s for s in statements if "sqs:SendMessage" in s["Action"]]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [posts_queue, "Arn"]}]
    # Nothing else: of the tables only the batch's watch (a conditioned GetItem), no topics, no state machine.
    on_tables = [s for s in statements if "Storage" in json.dumps(s["Resource"])]
    assert [(s["Action"], s["Condition"]) for s in on_tables] == [
        ("dynamodb:GetItem", {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["WATCHES"]}})
    ]
    assert "Escalation" not in json.dumps([s["Resource"] for s in statements])
