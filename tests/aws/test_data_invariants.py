"""Invariants of the Data and Secrets stacks, per environment (docs/requirements.md#tables,
#encryption, #retention)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from envconfig.aws import Environment, TableName
from gates.secret_scan import count_files, scan


def test_three_tables_with_their_policy_names(aws_app, env):
    tables = aws_app.resources(env, "Data", "AWS::DynamoDB::GlobalTable")
    names = sorted(t["Properties"]["TableName"] for t in tables.values())
    assert names == sorted(aws_app.configs[env].table_name(t) for t in TableName)


def test_tables_pitr_with_configured_period_and_cmk(aws_app, env):
    config = aws_app.configs[env]
    template = Template.from_json(aws_app.template(env, "Data"))
    key_id = next(iter(aws_app.resources(env, "Data", "AWS::KMS::Key")))
    template.resource_properties_count_is(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": [
                Match.object_like(
                    {
                        "PointInTimeRecoverySpecification": {
                            "PointInTimeRecoveryEnabled": True,
                            "RecoveryPeriodInDays": config.data.pitr_recovery_period_days,
                        },
                        "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}},
                        "DeletionProtectionEnabled": config.data.deletion_protection,
                    }
                )
            ],
        },
        3,
    )


def test_every_stateful_resource_is_retained(aws_app):
    stateful = {
        "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Backup::BackupVault",
        "AWS::Logs::LogGroup", "AWS::IAM::OIDCProvider",
    }
    seen = 0
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] in stateful:
            seen += 1
            assert resource.get("DeletionPolicy") == "Retain", f"{env.value}/{stack}/{logical_id} ({resource['Type']}) must be RETAIN"
            assert resource.get("UpdateReplacePolicy") == "Retain", f"{env.value}/{stack}/{logical_id} must keep UpdateReplacePolicy Retain"
    assert seen >= 20


def test_production_tables_have_deletion_protection(aws_app):
    for table in aws_app.resources(Environment.PRODUCTION, "Data", "AWS::DynamoDB::GlobalTable").values():
        assert all(r["DeletionProtectionEnabled"] is True for r in table["Properties"]["Replicas"])


def test_every_kms_key_rotates_and_has_an_alias(aws_app):
    keys = aliases = 0
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::KMS::Key":
            keys += 1
            assert resource["Properties"].get("EnableKeyRotation") is True, f"{env.value}/{stack}/{logical_id}: rotation off"
        if resource["Type"] == "AWS::KMS::Alias":
            aliases += 1
    assert keys == 7 and aliases == keys  # data, secrets, observability per environment; production DR copy key


def test_key_policies_never_name_a_wildcard_principal(aws_app):
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::KMS::Key":
            for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
                if statement["Effect"] == "Deny":  # a Deny on everyone narrows (the CreateGrant limit, test_control_tower.py)
                    continue
                principal = statement["Principal"]
                assert principal != "*" and principal.get("AWS") != "*", f"{env.value}/{stack}/{logical_id}: wildcard principal"


def _buckets(aws_app):
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::S3::Bucket":
            yield env, stack, logical_id, resource


def test_buckets_private_versioned(aws_app):
    count = 0
    for env, stack, logical_id, bucket in _buckets(aws_app):
        count += 1
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }, f"{env.value}/{stack}/{logical_id}: public access not fully blocked"
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, f"{logical_id}: not versioned"
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert count == 8  # baselines + trail, each with its access-log bucket, per environment


def test_data_buckets_use_kms_and_log_access(aws_app):
    for env, stack, logical_id, bucket in _buckets(aws_app):
        if "AccessLogs" in logical_id:
            continue  # log destinations: SSE-S3 by AWS requirement, checked below
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", logical_id
        assert "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"], logical_id
        assert "DestinationBucketName" in props["LoggingConfiguration"], f"{logical_id}: no access logs"
        assert any("NoncurrentVersionExpiration" in r for r in props["LifecycleConfiguration"]["Rules"]), logical_id


def test_every_bucket_has_a_tls_only_policy(aws_app):
    for (env, stack), template in aws_app.templates.items():
        buckets = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::S3::Bucket"}
        protected = set()
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::S3::BucketPolicy":
                continue
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Deny" and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false":
                    protected.add(resource["Properties"]["Bucket"]["Ref"])
        assert buckets == protected, f"{env.value}/{stack}: buckets without a TLS-only policy: {buckets - protected}"


def test_backup_vault_encrypted_and_plan_selects_the_tables(aws_app, env):
    config = aws_app.configs[env]
    template = Template.from_json(aws_app.template(env, "Data"))
    template.has_resource_properties("AWS::Backup::BackupVault", {"EncryptionKeyArn": Match.any_value()})
    template.has_resource_properties(
        "AWS::Backup::BackupPlan",
        {"BackupPlan": {"BackupPlanRule": [Match.object_like({"Lifecycle": {"DeleteAfterDays": config.data.backup_retention_days}})], "BackupPlanName": Match.any_value()}},
    )
    selection = next(iter(aws_app.resources(env, "Data", "AWS::Backup::BackupSelection").values()))
    resources = selection["Properties"]["BackupSelection"]["Resources"]
    table_ids = set(aws_app.resources(env, "Data", "AWS::DynamoDB::GlobalTable"))
    assert {r["Fn::GetAtt"][0] for r in resources} == table_ids


def test_no_securestring_parameter_in_any_template(aws_app):
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::SSM::Parameter":
            assert resource["Properties"]["Type"] == "String", f"{logical_id}: CloudFormation cannot create SecureStrings"
            assert resource["Properties"]["Name"].startswith(aws_app.configs[env].parameter_prefix + "infra/"), (
                f"{logical_id}: only published infrastructure values (ARNs, ids) are plain parameters"
            )


def test_secret_read_policy_is_exact(aws_app, env):
    config = aws_app.configs[env]
    policies = {v["Properties"]["ManagedPolicyName"]: v for v in aws_app.resources(env, "Secrets", "AWS::IAM::ManagedPolicy").values()}
    read = policies[f"{config.resource_prefix}-parameters-read"]["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in read}
    assert set(by_sid) == {"ReadParameters", "DecryptViaSsm"}
    assert by_sid["ReadParameters"]["Action"] == "ssm:GetParameter"
    arns = [r["Fn::Join"][1][-1] for r in by_sid["ReadParameters"]["Resource"]]
    assert sorted(arns) == sorted(f":ssm:{config.region}:{config.account}:parameter{name}" for name in (config.nonce_parameter, config.nonce_rotation_parameter, config.github_token_parameter))
    assert by_sid["DecryptViaSsm"]["Action"] == "kms:Decrypt"
    assert by_sid["DecryptViaSsm"]["Condition"] == {"StringEquals": {"kms:ViaService": f"ssm.{config.region}.amazonaws.com"}}
    assert by_sid["DecryptViaSsm"]["Resource"] != "*"


def test_secrets_stack_outputs_parameter_names(aws_app, env):
    config = aws_app.configs[env]
    outputs = aws_app.template(env, "Secrets")["Outputs"]
    assert outputs["NonceParameterName"]["Value"] == config.nonce_parameter
    assert outputs["GitHubTokenParameterName"]["Value"] == config.github_token_parameter


def test_no_secret_material_in_synthesized_files(aws_app):
    assert count_files([aws_app.outdir]) > 20
    found = [f"{path.relative_to(aws_app.outdir)}: {kind}" for path, kind in scan([aws_app.outdir])]
    assert not found, found


def test_secret_scan_detects_planted_secrets(tmp_path):
    token = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"
    (tmp_path / "a.template.json").write_text(f'{{"Value": "{token}", "Type": "SecureString"}}')
    (tmp_path / "cdk.tf.json").write_text('{"secret_data": "hunter2"}')
    (tmp_path / "ok.tf.json").write_text('{"a": {"secret_data": "${google_redis_instance.x.auth_string}"}, "b": {"secret_data": "rediss://${r.host}:${r.port}"}}')
    found = {(path.name, kind) for path, kind in scan([tmp_path])}
    assert found == {("a.template.json", "GitHub token"), ("a.template.json", "SecureString resource"), ("cdk.tf.json", "Terraform literal secret")}
