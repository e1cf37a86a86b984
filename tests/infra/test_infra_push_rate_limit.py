"""The push API's own rate limit (issue 11, item 5): a WAF rate-based rule per source IP on the
push stage, and on no other stage."""

from __future__ import annotations

import json

from infra_helpers import logical_id, of_type

from crisiswatch import constants


def test_a_rate_based_rule_per_source_ip_blocks_floods(resources):
    (acl,) = of_type(resources, "AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    (rule,) = props["Rules"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": constants.PUSH_WAF_RATE_LIMIT_PER_IP,
        "EvaluationWindowSec": constants.PUSH_WAF_WINDOW_SECONDS,
    }
    # Below the stage's own throttle: one address cannot hold the providers' requests per second.
    per_second = constants.PUSH_WAF_RATE_LIMIT_PER_IP / constants.PUSH_WAF_WINDOW_SECONDS
    assert per_second < constants.PUSH_API_THROTTLE_RATE_LIMIT


def test_the_acl_is_on_the_push_stage_only(resources):
    (association,) = of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    acl = logical_id(resources, "AWS::WAFv2::WebACL", "PushWebAcl")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl, "Arn"]}
    stage_arn = json.dumps(association["Properties"]["ResourceArn"])
    push_api = logical_id(resources, "AWS::ApiGateway::RestApi", "PushRestApi")
    push_stage = logical_id(resources, "AWS::ApiGateway::Stage", "PushRestApi")
    assert push_api in stage_arn and push_stage in stage_arn
    incidents_api = logical_id(resources, "AWS::ApiGateway::RestApi", "ApiRestApi")
    assert incidents_api not in stage_arn
