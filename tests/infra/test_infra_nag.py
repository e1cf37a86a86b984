"""cdk-nag is enforced: the session template only exists because every finding is fixed or
acknowledged with a reason, and an unacknowledged finding fails synthesis."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

RULE_ID = re.compile(r"^(AwsSolutions::AwsSolutions|Serverless::Serverless)-[A-Za-z0-9]+(\[.+\])?$")


def _acknowledgements(stack) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found


def test_stack_passes_both_nag_packs(template):
    assert template.to_json()["Resources"]  # Template.from_stack raised otherwise


def test_every_acknowledgement_names_a_finding_and_gives_a_reason(app_and_stack):
    _, stack = app_and_stack
    acks = _acknowledgements(stack)
    assert acks
    for path, rules in acks.items():
        for rule, reason in rules.items():
            assert RULE_ID.match(rule), (path, rule)
            assert len(reason.split()) >= 10, (path, rule, reason)


def test_no_blanket_stack_level_acknowledgements(app_and_stack):
    _, stack = app_and_stack
    assert stack.node.path not in _acknowledgements(stack)


def test_an_unacknowledged_finding_fails_synthesis():
    from infra.app import build_app

    _, stack = build_app(context={"subscribers": []}, skip_bundling=True)
    sqs.Queue(stack, "PlainQueue")  # unencrypted, no DLQ, no TLS enforcement: several findings
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(stack)
