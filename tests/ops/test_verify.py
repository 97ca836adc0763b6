"""verify: each family of checks compares the live resource with the
deployed template and fails naming the resource, the expected and the actual
value (moto in-process; the tamperings of a real deploy run in
tests/e2e/test_truth.py)."""
from __future__ import annotations

import json

import boto3
import pytest

from opscli import aws_ops, verify
from opscli.verify import Status

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
META = {"M": {"Type": "AWS::CDK::Metadata"}}


def deploy(aws, resources_by_stack):
    cf = aws.client("cloudformation")
    for stack in ("Data", "Secrets", "Observability", "Oidc", "Runtime"):
        cf.create_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1", ChangeSetType="CREATE",
                             TemplateBody=json.dumps({"Resources": resources_by_stack.get(stack, META)}))
        cf.execute_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1")


def results_of(aws, area):
    return {r.subject: r for r in verify.verify_all(aws) if r.area == area}


def trust(subjects, extra_condition=None):
    condition = {"StringEquals": {AUD: "sts.amazonaws.com", SUB: subjects}, **(extra_condition or {})}
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                                                     "Principal": {"Federated": PROVIDER}, "Condition": condition}]}


def test_missing_stacks_are_their_own_outcome(aws, capsys):
    assert aws_ops.main(["verify", "--env", "staging"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("ops verify: Staging-Data is MISSING, Staging-Secrets is MISSING")
    assert "nothing to compare" in err and "Traceback" not in err


def test_role_trust_and_policies_are_whole_documents(aws):
    staging = "repo:PhaseMirror/Phase-Mirror:environment:staging"
    deploy(aws, {"Oidc": {
        "Deploy": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "deploy", "AssumeRolePolicyDocument": trust([staging])}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "DeployPolicy", "Roles": [{"Ref": "Deploy"}],
                   "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                       {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/x"}]}}}}})
    assert results_of(aws, "role")["deploy trust"].status is Status.PASS
    iam = boto3.client("iam", region_name="us-east-1")
    # A second GitHub subject: still "one of the environment's", but not what was synthesized.
    iam.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(trust([staging, staging + "-plan"])))
    iam.put_role_policy(RoleName="deploy", PolicyName="DeployPolicy", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    iam.put_role_policy(RoleName="deploy", PolicyName="Sneaky", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    roles = results_of(aws, "role")
    assert roles["deploy trust"].status is Status.FAIL
    assert "unexpected statement(s)" in roles["deploy trust"].evidence and staging + "-plan" in roles["deploy trust"].evidence
    assert roles["deploy inline policy Sneaky"].status is Status.FAIL
    assert roles["deploy inline policy Sneaky"].evidence.startswith('expected no such policy (not approved), actual {"Statement": [{"Action": "s3:*"')
    assert roles["deploy inline policy DeployPolicy"].status is Status.FAIL
    iam.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(
        trust([staging], {"StringLike": {SUB: "repo:*"}})))
    evidence = results_of(aws, "role")["deploy trust"].evidence
    assert evidence.startswith(f"StringLike on ['{SUB}'] (only StringEquals pins a subject)")


def test_a_bare_bucket_lists_every_problem(aws):
    deploy(aws, {"Data": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "bare-bucket"}}}})
    buckets = results_of(aws, "bucket")
    assert buckets["bare-bucket versioning"].evidence == "expected Enabled, actual Suspended"
    assert buckets["bare-bucket public access block"].evidence.endswith("actual null")
    assert buckets["bare-bucket encryption"].status is Status.FAIL
    assert buckets["bare-bucket TLS-only"].evidence == "expected a Deny when aws:SecureTransport is false, actual none"


ALARM = {"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "MetricName": "X", "Namespace": "N",
         "Period": 300, "Statistic": "Sum", "Threshold": 1}


def test_alarms_are_checked_by_name(aws):
    alarms = {f"Alarm{i}": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        **ALARM, "AlarmName": f"alarm-{i}", "AlarmActions": [{"Ref": "Topic"}], "OKActions": [{"Ref": "Topic"}]}} for i in range(8)}
    deploy(aws, {"Observability": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}, **alarms}})
    assert all(r.status is Status.PASS for r in results_of(aws, "alarm").values())
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    cw.delete_alarms(AlarmNames=["alarm-3"])
    cw.disable_alarm_actions(AlarmNames=["alarm-5"])
    results = results_of(aws, "alarm")
    assert results["alarm-3"].evidence == "expected alarm alarm-3 (Staging-Observability/Alarm3), actual does not exist"
    assert results["alarm-5"].evidence == "ActionsEnabled: expected true, actual False"


def test_unprotected_tables_fail(aws):
    table = {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        "TableName": "t1", "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": True,
                      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
                      "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}]}}
    key = {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True, "KeyPolicy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                "Action": "kms:*", "Resource": "*"}]}}}
    deploy(aws, {"Data": {"Key": key, "Table": table}})
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    assert all(r.status is Status.PASS for r in results_of(aws, "table").values())
    ddb.update_table(TableName="t1", DeletionProtectionEnabled=False)
    ddb.update_continuous_backups(TableName="t1", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    results = results_of(aws, "table")
    assert results["t1 deletion protection"].evidence == "expected true, actual false"
    assert results["t1 PITR"].evidence.startswith('expected {"days": 35, "status": "ENABLED"}, actual {"days": null, "status": "DISABLED"}')


def test_pending_and_extra_subscriptions(aws, monkeypatch):
    sub = {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email",
                                                             "Endpoint": "oncall@example.com"}}
    deploy(aws, {"Observability": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}, "Sub": sub}})
    sns = aws.client("sns")
    topic = sns.list_topics()["Topics"][0]["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://collector.example/hook")
    real = sns.list_subscriptions_by_topic

    def pending(**kwargs):  # what SNS answers until the recipient clicks the link
        answer = real(**kwargs)
        for s in answer["Subscriptions"]:
            if s["Protocol"] == "email":
                s["SubscriptionArn"] = "PendingConfirmation"
        return answer
    monkeypatch.setattr(sns, "list_subscriptions_by_topic", pending)
    results = results_of(aws, "topic")
    warn = results["alerts subscription email:oncall@example.com"]
    assert warn.status is Status.WARN and "pending confirmation" in warn.evidence
    extra = results["alerts subscription https:https://collector.example/hook"]
    assert extra.status is Status.FAIL and extra.evidence == "expected no such subscription (not approved), actual subscribed"


def test_verify_against_a_synthesized_assembly_is_an_option(capsys):
    with pytest.raises(SystemExit):
        aws_ops.main(["verify", "--help"])
    assert "--assembly DIR" in capsys.readouterr().out
