"""bin/ops adopt: input checks, and which live resource each retained logical id
gets (the key that encrypts the data, never a newer orphan), against moto
in-process. The whole command runs end to end in tests/e2e/test_recovery.py."""
from __future__ import annotations

import io
import json

import boto3
import pytest

from opscli import adopt as adopt_module
from opscli import aws_ops
from opscli.adopt import Adopter, StackArtifact
from opscli.errors import CheckFailed


def template(description="Encrypts the staging tables"):
    return {"Resources": {
        "DataKey": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "Properties": {"Description": description}},
        "DataKeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/data", "TargetKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]}}},
        "Events": {"Type": "AWS::DynamoDB::GlobalTable", "DeletionPolicy": "Retain", "Properties": {
            "TableName": "events", "Replicas": [{"Region": "us-east-1", "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]}}}]}},
        "Logs": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {}},
        "Baselines": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
            "BucketName": "baselines", "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}}}},
        "BaselinesPolicy": {"Type": "AWS::S3::BucketPolicy", "DeletionPolicy": "Retain", "Properties": {"Bucket": {"Ref": "Baselines"}}},
        "Vault": {"Type": "AWS::Backup::BackupVault", "DeletionPolicy": "Retain", "Properties": {
            "BackupVaultName": "tables", "EncryptionKeyArn": {"Fn::GetAtt": ["DataKey", "Arn"]}}},
    }}


@pytest.fixture
def world(config):
    """What a destroy leaves: the data key, a newer orphan key with the same description, data, buckets."""
    kms, ddb, s3 = (boto3.client(s, region_name=config.region) for s in ("kms", "dynamodb", "s3"))
    data_key = kms.create_key(Description="Encrypts the staging tables")["KeyMetadata"]
    orphan = kms.create_key(Description="Encrypts the staging tables")["KeyMetadata"]
    kms.create_alias(AliasName="alias/data", TargetKeyId=orphan["KeyId"])  # the trap: alias on the orphan
    ddb.create_table(TableName="events", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": data_key["Arn"]})
    s3.create_bucket(Bucket="access-logs-x1")
    s3.put_bucket_policy(Bucket="access-logs-x1", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::access-logs-x1/*"}]}))
    s3.create_bucket(Bucket="baselines")
    s3.put_bucket_logging(Bucket="baselines", BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "access-logs-x1", "TargetPrefix": "b/"}})
    s3.put_bucket_policy(Bucket="baselines", Policy=json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::baselines/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    boto3.client("backup", region_name=config.region).create_backup_vault(BackupVaultName="tables", EncryptionKeyArn=data_key["Arn"])
    return data_key["KeyId"], orphan["KeyId"]


def adopter(aws, config, overrides=None):
    return Adopter(aws, config, overrides=overrides or {}, out=io.StringIO())


def stack(t):
    return StackArtifact("Data", "Staging/Data", "Staging-Data", "us-east-1", t)


def test_each_retained_resource_is_found_and_the_key_is_the_one_holding_the_data(aws, config, world):
    data_key, orphan = world
    plan = adopter(aws, config).plan(stack(template()))
    assert plan.mapping == {
        "DataKey": ("AWS::KMS::Key", data_key),
        "Events": ("AWS::DynamoDB::GlobalTable", "events"),
        "Logs": ("AWS::S3::Bucket", "access-logs-x1"),
        "Baselines": ("AWS::S3::Bucket", "baselines"),
        "BaselinesPolicy": ("AWS::S3::BucketPolicy", "baselines"),
        "Vault": ("AWS::Backup::BackupVault", "tables"),
    }
    assert any(f"key {data_key} (the key of Events, Vault)" in n for n in plan.notes)
    assert any(orphan in n and "orphans" in n for n in plan.notes)
    assert plan.aliases == {"alias/data": "DataKey"}


def test_without_evidence_the_oldest_key_is_taken_and_an_override_wins(aws, config, world):
    data_key, orphan = world
    bare = {"Resources": {"DataKey": template()["Resources"]["DataKey"]}}
    assert adopter(aws, config).plan(stack(bare)).mapping == {"DataKey": ("AWS::KMS::Key", data_key)}
    assert adopter(aws, config, {"DataKey": orphan}).plan(stack(bare)).mapping == {"DataKey": ("AWS::KMS::Key", orphan)}


def test_data_under_two_keys_is_refused(aws, config, world):
    data_key, orphan = world
    boto3.client("backup", region_name=config.region).delete_backup_vault(BackupVaultName="tables")
    boto3.client("backup", region_name=config.region).create_backup_vault(
        BackupVaultName="tables", EncryptionKeyArn=f"arn:aws:kms:us-east-1:{config.account}:key/{orphan}")
    with pytest.raises(CheckFailed, match="encrypted with different keys"):
        adopter(aws, config).plan(stack(template()))


def test_stray_alias_is_removed_before_the_deploy(aws, config, world):
    a = adopter(aws, config)
    plan = a.plan(stack(template()))
    a.remove_stray_aliases(plan)
    aliases = [x["AliasName"] for x in boto3.client("kms", region_name=config.region).list_aliases()["Aliases"]]
    assert "alias/data" not in aliases
    assert "removed alias/data" in a.out.getvalue()


@pytest.mark.parametrize("args,message", [
    (["--key", "DataKey=not-a-key"], "ops adopt: --key 'DataKey=not-a-key': must be LOGICAL_ID=KEY_ID (a key id such as 1234abcd-12ab-34cd-56ef-1234567890ab)"),
    (["--assembly", "/nonexistent"], "ops adopt: /nonexistent/assembly-Staging/manifest.json: no cloud assembly of Staging (synthesize first, or pass --assembly)"),
])
def test_bad_input_is_refused_before_any_cloud_call(args, message, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")
    assert aws_ops.main(["adopt", "--env", "staging", *args]) == 2
    assert capsys.readouterr().err.strip() == message


def test_import_and_deploy_failures_are_one_line_check_failures(aws, config, world, tmp_path, monkeypatch):
    assembly = tmp_path / "assembly-Staging"
    assembly.mkdir()
    (assembly / "Data.template.json").write_text(json.dumps(template()))
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"StagingData": {
        "type": "aws:cloudformation:stack", "displayName": "Staging/Data", "environment": "aws://123456789012/us-east-1",
        "properties": {"templateFile": "Data.template.json", "stackName": "Staging-Data"}}}}))
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"assembly-Staging": {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Staging", "displayName": "Staging"}}}}))

    class Failed:
        returncode, stdout, stderr = 1, "", "ResourceImport failed: something"

    calls = []
    with pytest.raises(CheckFailed, match="cdk import Staging/Data failed: ResourceImport failed"):
        adopt_module.adopt(aws, config, assembly=tmp_path, overrides={}, runner=lambda cmd: calls.append(cmd) or Failed(), out=io.StringIO())
    assert calls[0][:4] == ["npx", "--no-install", "cdk", "import"] and "--resource-mapping" in calls[0]


def test_no_credentials_or_an_unreachable_endpoint_is_one_line(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL="http://localhost:9", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    assembly = tmp_path / "assembly-Staging"
    assembly.mkdir()
    (assembly / "Data.template.json").write_text(json.dumps({"Resources": {}}))
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"StagingData": {
        "type": "aws:cloudformation:stack", "displayName": "Staging/Data", "environment": "aws://123456789012/us-east-1",
        "properties": {"templateFile": "Data.template.json", "stackName": "Staging-Data"}}}}))
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"assembly-Staging": {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Staging", "displayName": "Staging"}}}}))
    down = subprocess.run([str(root / "bin" / "ops"), "adopt", "--env", "staging", "--assembly", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert down.returncode == 2 and down.stderr.startswith("ops adopt: cannot identify the AWS account")
    assert len(down.stderr.strip().splitlines()) == 1
