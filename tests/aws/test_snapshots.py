"""Small, scrubbed snapshots: the Secrets stack and the Oracle's IAM policy.

They catch unreviewed drift in the two places where a silent change hurts
most (who may read secrets; what the Oracle may do). Asset hashes, CDK
metadata and the bootstrap-version rule are scrubbed so that only intended
changes show. Regenerate deliberately with
``UPDATE_SNAPSHOTS=1 bin/test tests/aws/test_snapshots.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from envconfig.aws import Environment

SNAPSHOTS = Path(__file__).with_name("snapshots")
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def scrub(template: dict) -> dict:
    template = json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template)))
    template.pop("Rules", None)
    template.get("Parameters", {}).pop("BootstrapVersion", None)
    if not template.get("Parameters"):
        template.pop("Parameters", None)
    for resource in template.get("Resources", {}).values():
        resource.pop("Metadata", None)
    template["Resources"] = {k: v for k, v in template.get("Resources", {}).items() if v["Type"] != "AWS::CDK::Metadata"}
    return template


def _check(name: str, current: dict) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(current, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert json.loads(path.read_text()) == current, f"{name} changed; review the diff and re-record with UPDATE_SNAPSHOTS=1"


def test_secrets_stack_snapshot(aws_app):
    _check("staging-secrets", scrub(aws_app.template(Environment.STAGING, "Secrets")))


def test_oracle_role_policy_snapshot(aws_app):
    policies = {k: v for k, v in aws_app.resources(Environment.STAGING, "Oidc", "AWS::IAM::Policy").items() if k.startswith("GitHubOracleRole")}
    _check("staging-oracle-role-policy", scrub({"Resources": policies}))


def test_scrub_removes_asset_hashes_and_metadata():
    template = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Metadata": {"aws:asset:path": "x"},
                                    "Properties": {"Code": {"S3Key": "a" * 64 + ".zip"}}}}, "Rules": {}}
    assert scrub(template) == {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "<asset-hash>.zip"}}}}}


@pytest.mark.parametrize("name", ["staging-secrets", "staging-oracle-role-policy"])
def test_snapshots_stay_small(name):
    assert (SNAPSHOTS / f"{name}.json").stat().st_size < 20_000
