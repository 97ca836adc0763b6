"""Stable logical ids for stateful resources.

CloudFormation identifies a resource by its logical id: renaming a construct
(or moving it in the tree) changes the id, and CloudFormation then creates a
new table, key or bucket and deletes the old one (RETAIN keeps the old one
orphaned, but the stack now points at an empty replacement). The inventory
``logical_ids.json`` records every stateful resource; this test fails on any
difference. An intended move goes through ``cdk refactor``; then re-record
with ``UPDATE_LOGICAL_IDS=1 bin/test tests/aws/test_logical_ids.py`` in the
same change, where a reviewer sees it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATEFUL_TYPES = {
    "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Backup::BackupVault",
    "AWS::Logs::LogGroup", "AWS::IAM::OIDCProvider",
}
INVENTORY = Path(__file__).with_name("logical_ids.json")


def current_inventory(aws_app) -> dict[str, dict[str, str]]:
    inventory: dict[str, dict[str, str]] = {}
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] in STATEFUL_TYPES:
            inventory.setdefault(f"{env.stage_id}/{stack}", {})[logical_id] = resource["Type"]
    return {k: dict(sorted(v.items())) for k, v in sorted(inventory.items())}


def diff_inventory(recorded: dict, current: dict) -> list[str]:
    problems = []
    for stack, resources in recorded.items():
        for logical_id, type_ in resources.items():
            now = current.get(stack, {}).get(logical_id)
            if now is None:
                problems.append(
                    f"{stack}: {type_} {logical_id} is gone. CloudFormation would replace it (a new, empty resource) -- "
                    "a renamed or moved construct changes the logical id. Restore the construct id, or move it with `cdk refactor` "
                    "and re-record the inventory."
                )
            elif now != type_:
                problems.append(f"{stack}: {logical_id} changed type {type_} -> {now}: that is a replacement.")
    for stack, resources in current.items():
        for logical_id, type_ in resources.items():
            if logical_id not in recorded.get(stack, {}):
                problems.append(f"{stack}: new stateful {type_} {logical_id} is not in {INVENTORY.name}; record it deliberately.")
    return problems


def test_stateful_logical_ids_are_stable(aws_app):
    current = current_inventory(aws_app)
    if os.environ.get("UPDATE_LOGICAL_IDS") == "1":
        INVENTORY.write_text(json.dumps(current, indent=2) + "\n")
    recorded = json.loads(INVENTORY.read_text())
    problems = diff_inventory(recorded, current)
    assert not problems, "\n".join(problems)


def test_a_rename_is_reported_as_a_replacement():
    recorded = {"Staging/Data": {"FpEventsTable1234ABCD": "AWS::DynamoDB::GlobalTable"}}
    renamed = {"Staging/Data": {"FpEventTable9876DCBA": "AWS::DynamoDB::GlobalTable"}}
    problems = diff_inventory(recorded, renamed)
    assert "CloudFormation would replace it" in problems[0] and "cdk refactor" in problems[0]
    assert "not in logical_ids.json" in problems[1]
