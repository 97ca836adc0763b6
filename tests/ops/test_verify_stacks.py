"""The one stack list: production's DisasterRecovery stack is read, in its own region."""
from __future__ import annotations

import pytest

from envconfig.aws import load
from opscli.live import stacks
from opscli.session import Aws


def test_staging_has_the_five_core_stacks():
    assert stacks.keys(load("staging")) == ("Data", "Secrets", "Observability", "Oidc", "Runtime")


def test_production_adds_disaster_recovery_read_in_its_region():
    config = load("production")
    assert stacks.keys(config)[-1] == "DisasterRecovery"
    aws = Aws(config)
    dr = stacks.regional(aws, "DisasterRecovery")
    assert dr.region == config.recovery.dr_region != aws.region
    assert dr.client("cloudformation").meta.region_name == config.recovery.dr_region
    assert stacks.regional(aws, "Data") is aws


def test_states():
    assert "UPDATE_ROLLBACK_COMPLETE" not in stacks.HEALTHY  # verify refuses to compare it
    assert "UPDATE_ROLLBACK_COMPLETE" in stacks.USABLE       # adopt leaves it alone
    assert stacks.unhealthy({"Staging-Data": "ROLLBACK_COMPLETE", "Staging-Oidc": "UPDATE_COMPLETE"}) == {
        "Staging-Data": "ROLLBACK_COMPLETE"}


def test_verify_reads_the_disaster_recovery_stack_in_its_region(monkeypatch):
    """Production: the DisasterRecovery stack's key is read in us-west-2, not the primary region."""
    import json

    import boto3

    from opscli import verify
    from opscli.verify import Status

    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")
    config = load("production")
    aws = Aws(config, boto3.Session(region_name=config.region))
    key_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                                                          "Action": "kms:*", "Resource": "*"}]}
    dr_key = {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": key_policy, "EnableKeyRotation": True}}}
    for key in stacks.keys(config):
        resources = dr_key if key == "DisasterRecovery" else {"M": {"Type": "AWS::CDK::Metadata"}}
        cf = stacks.regional(aws, key).client("cloudformation")
        cf.create_change_set(StackName=aws.stack_name(key), ChangeSetName="c1", ChangeSetType="CREATE",
                             TemplateBody=json.dumps({"Resources": resources}))
        cf.execute_change_set(StackName=aws.stack_name(key), ChangeSetName="c1")
    results = [r for r in verify.verify_all(aws) if "Production-DisasterRecovery" in r.subject]
    assert {r.subject.split(")")[-1].strip() for r in results} >= {"rotation", "state", "key policy"}
    assert all(r.status is Status.PASS for r in results), results
    dr = boto3.client("kms", region_name=config.recovery.dr_region)
    dr.disable_key_rotation(KeyId=dr.list_keys()["Keys"][0]["KeyId"])
    [rotation] = [r for r in verify.verify_all(aws) if r.subject.startswith("Production-DisasterRecovery") and r.subject.endswith("rotation")]
    assert rotation.status is Status.FAIL


def test_the_expected_code_hash_is_the_approved_package(tmp_path):
    """The code hash is the deterministic package of the kept assembly, not whatever sits in the bucket."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import assembly_fixture

    from opscli import assembly, surface

    root = assembly_fixture.build(tmp_path / "kept")
    stack = assembly.read(root).stage("Staging").stacks["Staging-Runtime"]
    [(logical, (sha, source))] = surface.approved_code(stack).items()
    package = assembly.package_zip(root / f"asset.{assembly_fixture.ASSET_ID}")
    assert (logical, sha) == ("Fn", assembly.code_sha256(package)) and "approved package" in source
    (root / f"asset.{assembly_fixture.ASSET_ID}" / "handler.py").write_text("def handler(e, c):\n    return 'backdoor'\n")
    changed = assembly.read(root).stage("Staging").stacks["Staging-Runtime"]
    assert surface.approved_code(changed)["Fn"][0] != sha
