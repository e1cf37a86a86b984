"""Least privilege on the tables (issue 11, item 5): each function holds exactly the DynamoDB
actions its adapters call (functions/crisiswatch/aws/*.py), on the tables and state-table
partitions they call them on. No role may Scan (no adapter scans: only tests and the demo do), and
DeleteItem is granted only where an adapter deletes."""

from __future__ import annotations

import json

import pytest
from infra_helpers import logical_id, of_type

from crisiswatch import constants

GET, QUERY, PUT, UPDATE, DELETE = (
    f"dynamodb:{a}" for a in ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem")
)
BATCH_GET, BATCH_WRITE = "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"
INDEX = f"index/{constants.INCIDENTS_BY_STATUS_INDEX}"


def _list(value):
    return value if isinstance(value, list) else [value]


def table_access(resources: dict[str, dict]) -> dict[str, dict[tuple[str, str, tuple[str, ...]], set[str]]]:
    """policy logical id -> (table, "table" or the index, the LeadingKeys condition) -> actions."""
    tables = {
        name: logical_id(resources, "AWS::DynamoDB::Table", f"Storage{name}Table")
        for name in ("Posts", "Incidents", "State")
    }
    access: dict[str, dict[tuple[str, str, tuple[str, ...]], set[str]]] = {}
    for policy_id, policy in of_type(resources, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = {a for a in _list(statement["Action"]) if a.startswith("dynamodb:")}
            if not actions:
                continue
            condition = statement.get("Condition", {})
            keys = next((tuple(c["dynamodb:LeadingKeys"]) for c in condition.values()), ())
            for resource in _list(statement["Resource"]):
                text = json.dumps(resource)
                table = next(name for name, lid in tables.items() if lid in text)
                part = INDEX if f"/{INDEX}" in text else "index/*" if "/index/" in text else "table"
                access.setdefault(policy_id, {}).setdefault((table, part, keys), set()).update(actions)
    return access


def of_role(resources, prefix: str) -> dict[tuple[str, str, tuple[str, ...]], set[str]]:
    matching = [v for k, v in table_access(resources).items() if k.startswith(prefix)]
    assert len(matching) == 1, prefix
    return matching[0]


WATCHES = ("WATCHES",)
EXPECTED = {
    "ScoringScorerRole": {
        ("Posts", "table", ()): {GET, BATCH_GET, UPDATE},
        ("Incidents", "table", ()): {GET, BATCH_GET, PUT, UPDATE},
        ("Incidents", INDEX, ()): {QUERY},
        ("State", "table", WATCHES): {QUERY, GET},
        ("State", "table", ("WATCH#*",)): {GET, QUERY, PUT, UPDATE, DELETE},
        ("State", "table", ("STORY#*",)): {QUERY, UPDATE},
        ("State", "table", ("STORIES#*",)): {BATCH_GET, PUT},
        ("State", "table", ("TIMELINE*",)): {GET, PUT, BATCH_WRITE},
    },
    "EscalationNotifierRole": {
        ("Incidents", "table", ()): {GET, BATCH_GET, UPDATE},
        ("State", "table", WATCHES): {QUERY, GET},
        ("State", "table", ("HELD#*",)): {PUT, QUERY, DELETE},
        ("State", "table", ("TIMELINE*",)): {GET, PUT, BATCH_WRITE},
        ("State", "table", ("CHATBOT#*",)): {GET, UPDATE},
    },
    "ApiApiRole": {
        ("Incidents", "table", ()): {GET, BATCH_GET, UPDATE},
        ("Incidents", INDEX, ()): {QUERY},
        ("State", "table", WATCHES): {GET, QUERY, PUT, DELETE},
        ("State", "table", ("TIMELINE*",)): {QUERY, GET, PUT, BATCH_WRITE},
        ("State", "table", ("WATCH#*",)): {DELETE},
    },
    "IngestionSchedulerRole": {("State", "table", WATCHES): {QUERY}},
    "IngestionFetcherRole": {("State", "table", ("CURSOR#*",)): {GET, UPDATE}},
    "PushPushRole": {("State", "table", WATCHES): {GET}},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_function_holds_exactly_the_table_actions_it_uses(resources, role):
    assert of_role(resources, role) == EXPECTED[role]


def test_the_watch_seed_puts_watches_only(resources):
    seeds = {k: v for k, v in table_access(resources).items() if "Watch" in k and "CustomResourcePolicy" in k}
    assert seeds and all(v == {("State", "table", WATCHES): {PUT}} for v in seeds.values())


def test_no_role_scans_and_deletes_only_where_an_adapter_deletes(resources):
    access = table_access(resources)
    granted = {
        (policy, key, action)
        for policy, parts in access.items()
        for key, actions in parts.items()
        for action in actions
    }
    assert not [g for g in granted if g[2] in ("dynamodb:Scan", "dynamodb:PartiQLSelect")]
    deletes = {(policy.split("Role")[0], key) for policy, key, action in granted if action == DELETE}
    assert deletes == {
        ("ScoringScorer", ("State", "table", ("WATCH#*",))),  # the sweep resolves: the pointer goes
        ("EscalationNotifier", ("State", "table", ("HELD#*",))),  # held alerts, once delivered
        ("ApiApi", ("State", "table", WATCHES)),  # DELETE /watches/{id}
        ("ApiApi", ("State", "table", ("WATCH#*",))),  # a resolve frees the pointer
    }
    # No wildcard over the indexes, and no table-wide grant on the state table but the scorer's
    # and the notifier's none: every state-table statement names its partitions.
    assert not [g for g in granted if g[1][1] == "index/*"]
    assert not [g for g in granted if g[1][0] == "State" and not g[1][2]]
