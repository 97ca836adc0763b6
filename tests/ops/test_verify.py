"""verify: each family of checks fails with its evidence when the
environment is wrong (the passing case runs end to end in tests/e2e)."""
from __future__ import annotations

import json

import boto3

from opscli import aws_ops, verify
from opscli.verify import Status

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def deploy(aws, stack, resources):
    cf = aws.client("cloudformation")
    cf.create_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1", ChangeSetType="CREATE",
                         TemplateBody=json.dumps({"Resources": resources}))
    cf.execute_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1")


def trust(condition):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                                                     "Principal": {"Federated": PROVIDER}, "Condition": condition}]}


def test_missing_stacks_stop_the_verification(aws, capsys):
    assert aws_ops.main(["verify", "--env", "staging"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("FAIL    stack") == 5
    assert captured.err.startswith("ops verify: 5 checks failed, first: stack Staging-Data: ValidationError")


def test_parameters_missing_wrong_type_and_token_pending(aws):
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=aws.config.nonce_parameter, Value="plain", Type="String")
    results = {r.subject: r for r in verify.verify_parameters(aws)}
    nonce = results[aws.config.nonce_parameter]
    assert nonce.status is Status.FAIL and nonce.evidence.startswith("String with key None")
    token = results[aws.config.github_token_parameter]
    assert token.status is Status.WARN and token.evidence == "not set yet; create it with bin/ops set-github-token"


def test_oidc_trust_with_a_wildcard_or_unpinned_sub_fails(aws):
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                        ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40])
    deploy(aws, "Oidc", {
        "Wildcard": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "wildcard", "AssumeRolePolicyDocument": trust({
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:PhaseMirror/Phase-Mirror:*"}})}},
        "Pinned": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "pinned", "AssumeRolePolicyDocument": trust({
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                             "token.actions.githubusercontent.com:sub": "repo:PhaseMirror/Phase-Mirror:environment:staging"}})}},
    })
    results = {r.subject: r for r in verify.verify_oidc(aws)}
    assert results[PROVIDER].status is Status.PASS
    wildcard = results["role wildcard trust"]
    assert wildcard.status is Status.FAIL
    assert "uses StringLike (wildcards)" in wildcard.evidence and "sub [] not within" in wildcard.evidence
    assert results["role pinned trust"].status is Status.PASS


def test_a_bare_bucket_lists_every_problem(aws):
    deploy(aws, "Data", {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "bare-bucket"}}})
    deploy(aws, "Observability", {"M": {"Type": "AWS::CDK::Metadata"}})
    [result] = verify.verify_buckets(aws)
    assert result.status is Status.FAIL
    assert result.evidence == ("versioning off; no public access block; no default encryption; "
                               "no bucket policy (TLS-only expected)")


def test_alarms_not_routed_to_the_topic_fail(aws):
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "unrouted", "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
        "MetricName": "X", "Namespace": "N", "Period": 300, "Statistic": "Sum", "Threshold": 1}}
    deploy(aws, "Observability", {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}, "Alarm": alarm})
    results = {r.subject: r for r in verify.verify_alarms_and_topic(aws)}
    assert results["count"].status is Status.FAIL  # 1 alarm, seed 001 needs 8
    assert results["unrouted"].status is Status.FAIL
    assert results["alerts encryption"].status is Status.FAIL
    assert results["alerts TLS-only"].evidence == "no TLS-only statement"
    assert results["alerts subscriptions"].evidence == "[] (config: ['oncall-staging@mirror-dissonance.example.com'])"


def test_tables_on_the_wrong_key_or_unprotected_fail(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    kms = boto3.client("kms", region_name="us-east-1")
    data_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{aws.config.resource_prefix}-data", TargetKeyId=data_key)
    other = kms.create_key()["KeyMetadata"]["Arn"]
    name = aws.config.table_name(verify.TableName.FP_EVENTS)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": other})
    results = {(r.area, r.subject): r for r in verify.verify_tables(aws)}
    results.update({r.subject: r for r in results.values() if r.area == "table"})
    assert results[f"{name} encryption"].status is Status.FAIL
    assert results[f"{name} encryption"].evidence.startswith(f"KMS key {other} (want the data key arn:aws:kms:")
    assert results[f"{name} deletion protection"].evidence == "False (config: True)"
    missing = aws.config.table_name(verify.TableName.CONSENT)
    assert results[("table", missing)].status is Status.FAIL
    assert "ResourceNotFoundException" in results[("table", missing)].evidence
    assert results[("pitr", missing)].evidence == f"TableNotFoundException: Table not found: {missing}"
