"""The timers (infra/constructs/timers.py): a schedule group, a role only EventBridge Scheduler can
assume that invokes the notifier alone, a dead-letter queue, and schedule permissions for the
notifier and the api only, on that group only."""

from __future__ import annotations

import json

from infra_helpers import flatten_join, function_by_handler, logical_id, of_type

from crisiswatch import constants
from crisiswatch.constants import Env
from infra.constructs.timers import MANAGE_ACTIONS


def _logical(resources, key: str) -> str:
    found, _ = function_by_handler(resources, constants.FUNCTIONS[key].handler)
    return found


def _policy_of(resources, role: str) -> list[dict]:
    statements = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_one_schedule_group_kept_with_its_pending_timers(resources):
    (group,) = of_type(resources, "AWS::Scheduler::ScheduleGroup").values()
    assert group["DeletionPolicy"] == "Retain"
    assert group["Properties"]["Name"]


def test_only_scheduler_of_this_account_assumes_the_role_and_it_invokes_the_notifier_alone(resources):
    role = logical_id(resources, "AWS::IAM::Role", "TimersSchedulerRole")
    (trust,) = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "000000000000"}}
    assert "ManagedPolicyArns" not in resources[role]["Properties"]

    dlq = logical_id(resources, "AWS::SQS::Queue", "TimersTimersDLQ")
    statements = _policy_of(resources, role)
    assert sorted((_actions(s), s["Resource"]) for s in statements) == sorted(
        [
            (["lambda:InvokeFunction"], {"Fn::GetAtt": [_logical(resources, "notifier"), "Arn"]}),
            (["sqs:SendMessage"], {"Fn::GetAtt": [dlq, "Arn"]}),
        ]
    )


def test_only_the_notifier_api_and_scorer_manage_schedules_of_the_group_and_pass_the_role(resources):
    role = logical_id(resources, "AWS::IAM::Role", "TimersSchedulerRole")
    (group,) = of_type(resources, "AWS::Scheduler::ScheduleGroup").values()
    managers = {}
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = _actions(statement)
            if any(a.startswith("scheduler:") for a in actions):
                assert sorted(actions) == sorted(MANAGE_ACTIONS)
                arn = flatten_join(statement["Resource"])
                assert arn.endswith(
                    f":scheduler:ap-northeast-1:000000000000:schedule/{group['Properties']['Name']}/*"
                )
                managers.setdefault(policy["Properties"]["Roles"][0]["Ref"], set()).add("scheduler")
            if "iam:PassRole" in actions:
                assert statement["Resource"] == {"Fn::GetAtt": [role, "Arn"]}
                assert statement["Condition"] == {
                    "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
                }
                managers.setdefault(policy["Properties"]["Roles"][0]["Ref"], set()).add("pass")
    roles = {
        resources[_logical(resources, key)]["Properties"]["Role"]["Fn::GetAtt"][0]
        for key in ("notifier", "api", "scorer")  # the scorer cancels a quiet-resolved incident's clocks
    }
    assert managers == {r: {"scheduler", "pass"} for r in roles}


def test_the_timer_functions_know_the_group_role_dlq_and_target(resources):
    group = of_type(resources, "AWS::Scheduler::ScheduleGroup")
    (name,) = (g["Properties"]["Name"] for g in group.values())
    role = logical_id(resources, "AWS::IAM::Role", "TimersSchedulerRole")
    dlq = logical_id(resources, "AWS::SQS::Queue", "TimersTimersDLQ")
    notifier = _logical(resources, "notifier")
    expected = {
        Env.TIMER_GROUP: name,
        Env.TIMER_ROLE_ARN: {"Fn::GetAtt": [role, "Arn"]},
        Env.TIMER_DLQ_ARN: {"Fn::GetAtt": [dlq, "Arn"]},
    }
    for key in constants.FUNCTIONS:
        env = resources[_logical(resources, key)]["Properties"]["Environment"]["Variables"]
        timer_env = {k: v for k, v in env.items() if k.startswith("TIMER_")}
        if key in ("api", "scorer"):
            assert timer_env == expected | {Env.TIMER_TARGET_ARN: {"Fn::GetAtt": [notifier, "Arn"]}}
        elif key == "notifier":  # its own ARN would be a circular reference: it reads its context
            assert timer_env == expected
        else:
            assert timer_env == {}, key


def test_failed_async_invocations_of_the_notifier_reach_the_timers_dlq(resources):
    (config,) = of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": _logical(resources, "notifier")}
    dlq = logical_id(resources, "AWS::SQS::Queue", "TimersTimersDLQ")
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq, "Arn"]}
    assert json.dumps(props["MaximumEventAgeInSeconds"]) == str(constants.TIMER_MAX_EVENT_AGE_SECONDS)
