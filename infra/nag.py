"""cdk-nag acknowledgements: one helper so every acknowledgement names its finding and gives a reason.

cdk-nag 3 reads CDK's native `Validations.of(construct).acknowledge(...)`. An acknowledgement on a
construct covers the resources beneath it; a finding with a detail (IAM5's `Resource::...`) must be
acknowledged with that exact detail, so one wildcard cannot hide another.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
SERVERLESS = "Serverless"


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    """Acknowledge `rule` (e.g. "AwsSolutions-IAM5") on `scope`, optionally one `finding` of it."""
    if len(reason.split()) < 6:
        raise ValueError(f"give {rule} a real reason, not {reason!r}")
    pack = SERVERLESS if rule.startswith(SERVERLESS) else AWS_SOLUTIONS
    rule_id = f"{pack}::{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def arn_of(resource: IConstruct) -> str:
    """How cdk-nag spells `Fn::GetAtt [<logical id>, Arn]` in a finding: `<LogicalId.Arn>`."""
    cfn = resource.node.default_child
    if not isinstance(cfn, CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource")
    stack = Stack.of(resource)
    return f"<{stack.resolve(stack.get_logical_id(cfn))}.Arn>"
