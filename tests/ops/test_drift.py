"""detect-drift: read-back finds each changed property; falls back from
CloudFormation drift detection when the endpoint does not implement it."""
from __future__ import annotations

import json

import boto3

from opscli import aws_ops, drift

ALARM = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmName": "md-throttle", "AlarmActions": [{"Ref": "Topic"}], "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
    "MetricName": "ReadThrottleEvents", "Namespace": "AWS/DynamoDB", "Period": 300, "Statistic": "Sum", "Threshold": 10}}
GROUP = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/md/app", "RetentionInDays": 30}}
META = {"Type": "AWS::CDK::Metadata", "Properties": {}}


def templates():
    return {"Data": {"Resources": {"Group": GROUP}},
            "Observability": {"Resources": {"Alarm": ALARM, "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}}},
            "Secrets": {"Resources": {"M": META}}, "Oidc": {"Resources": {"M": META}}, "Runtime": {"Resources": {"M": META}}}


def deploy(aws):
    # What bin/ops rotate-nonce creates after a deploy (no template can): a SecureString.
    aws.client("ssm").put_parameter(Name=aws.config.nonce_parameter, Value="n", Type="SecureString",
                                    KeyId=f"alias/{aws.config.resource_prefix}-secrets")
    cf = aws.client("cloudformation")
    for stack, template in templates().items():
        name = aws.stack_name(stack)
        cf.create_change_set(StackName=name, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=json.dumps(template))
        cf.execute_change_set(StackName=name, ChangeSetName="c1")


def test_no_drift_after_deploy(aws, capsys):
    deploy(aws)
    assert aws_ops.main(["detect-drift", "--env", "staging"]) == 0
    out = capsys.readouterr().out
    assert "drift check by readback" in out and "no drift" in out


def test_changed_properties_are_each_listed(aws, capsys):
    deploy(aws)
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    cw.put_metric_alarm(AlarmName="md-throttle", ComparisonOperator="GreaterThanThreshold", EvaluationPeriods=2,
                        MetricName="ReadThrottleEvents", Namespace="AWS/DynamoDB", Period=300, Statistic="Sum", Threshold=99)
    boto3.client("logs", region_name="us-east-1").put_retention_policy(logGroupName="/md/app", retentionInDays=1)
    assert aws_ops.main(["detect-drift", "--env", "staging"]) == 1
    captured = capsys.readouterr()
    assert "Staging-Observability  Alarm  AWS::CloudWatch::Alarm  Threshold  10  99.0" in captured.out
    assert "Staging-Observability  Alarm  AWS::CloudWatch::Alarm  EvaluationPeriods  1  2" in captured.out
    assert "Staging-Data  Group  AWS::Logs::LogGroup  RetentionInDays  30  1" in captured.out
    # put_metric_alarm without AlarmActions also unrouted it: that is drift too (twice: the rule and the property).
    assert "alarms.routed md-throttle" in captured.out
    assert captured.err.strip().startswith("ops detect-drift: 5 drifted properties in Staging, first: Staging-")


def test_deleted_resource_is_reported(aws):
    deploy(aws)
    boto3.client("cloudwatch", region_name="us-east-1").delete_alarms(AlarmNames=["md-throttle"])
    drifts = drift.readback(aws)
    assert [(d.logical_id, d.prop) for d in drifts] == [("Alarm", "(resource)")]


def test_against_a_synthesized_assembly(aws, tmp_path):
    deploy(aws)
    nested = tmp_path / "assembly-Staging"
    nested.mkdir()
    artifacts = {}
    for stack, template in templates().items():
        if stack == "Observability":
            template = json.loads(json.dumps(template))
            template["Resources"]["Alarm"]["Properties"]["Threshold"] = 20  # a change not deployed yet
        (nested / f"Staging{stack}.template.json").write_text(json.dumps(template))
        artifacts[f"Staging{stack}"] = {"type": "aws:cloudformation:stack", "displayName": f"Staging/{stack}",
                                        "environment": "aws://123456789012/us-east-1", "properties": {
                                            "templateFile": f"Staging{stack}.template.json", "stackName": f"Staging-{stack}"}}
    (nested / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"assembly-Staging": {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Staging", "displayName": "Staging"}}}}))

    method, drifts = drift.detect(aws, "auto", tmp_path)
    assert method == "readback"
    assert [(d.prop, d.expected, d.actual) for d in drifts] == [("Threshold", 20, 10.0)]


def test_cloudformation_method_reports_the_endpoint_limit(aws, capsys):
    deploy(aws)
    assert aws_ops.main(["detect-drift", "--env", "staging", "--method", "cloudformation"]) == 2
    assert "CloudFormation drift detection failed: NotImplemented" in capsys.readouterr().err


def test_missing_stack_is_its_own_outcome(aws, capsys):
    assert aws_ops.main(["detect-drift", "--env", "staging", "--method", "readback"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("ops detect-drift: Staging-Data is MISSING, ") and "Traceback" not in err


def test_rolled_back_stack_is_its_own_outcome(aws, capsys):
    deploy(aws)
    cf = aws.client("cloudformation")
    bad = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}}  # no KeyPolicy: the create fails
    cf.delete_stack(StackName="Staging-Oidc")
    cf.create_change_set(StackName="Staging-Oidc", ChangeSetName="c2", ChangeSetType="CREATE", TemplateBody=json.dumps(bad))
    cf.execute_change_set(StackName="Staging-Oidc", ChangeSetName="c2")
    assert cf.describe_stacks(StackName="Staging-Oidc")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert aws_ops.main(["detect-drift", "--env", "staging"]) == 3
    assert capsys.readouterr().err.startswith("ops detect-drift: Staging-Oidc is ROLLBACK_COMPLETE: nothing to compare")


def test_resolve_and_normalise(aws):
    from opscli import template_resolver as templates

    stack = templates.Stack("Observability", "Staging-Observability",
                           {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Group": {"Type": "AWS::Logs::LogGroup"}}},
                           {"Topic": "arn:aws:sns:us-east-1:123456789012:alerts", "Group": "/g"})
    resolver = templates.Resolver(aws, {"Observability": stack})
    assert resolver.resolve(stack, {"Ref": "Topic"}) == "arn:aws:sns:us-east-1:123456789012:alerts"
    assert resolver.resolve(stack, {"Fn::GetAtt": ["Group", "Arn"]}) == "arn:aws:logs:us-east-1:123456789012:log-group:/g:*"
    assert resolver.resolve(stack, {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":x"]]}) == "arn:aws:x"
    assert resolver.resolve(stack, {"Fn::Sub": "${AWS::AccountId}-${Topic.TopicName}"}) == "123456789012-alerts"
    assert resolver.resolve(stack, [{"Ref": "Param"}]) is templates.UNRESOLVED
    assert resolver.resolve(stack, "{{resolve:ssm:/missing}}") is templates.UNRESOLVED
    assert resolver.resolve(stack, "{{resolve:ssm-secure:/s}}") is templates.UNRESOLVED
    assert templates.norm(10) == templates.norm(10.0) == templates.norm("10")
    assert templates.norm(True) == templates.norm("true")
    one = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["a"], "Condition": {"NumericLessThan": {"k": 1.2}}}}
    other = {"Statement": [{"Resource": "a", "Effect": "Allow", "Action": ["s3:GetObject"], "Condition": {"NumericLessThan": {"k": "1.2"}}}]}
    assert templates.policy(one) == templates.policy(json.dumps(other))
    widened = {"Statement": [{**other["Statement"][0], "Action": ["s3:GetObject", "s3:PutObject"]}]}
    assert templates.policy(one) != templates.policy(widened)


def test_cloudformation_drift_detection_is_reported_per_property(aws, monkeypatch):
    """Real accounts: CloudFormation's own drift detection (botocore Stubber, as AWS answers)."""
    from botocore.stub import Stubber

    from opscli import surface

    monkeypatch.setattr(surface, "run", lambda aws, assembly: ({}, None, []))  # its own tests; here only CloudFormation's

    cf = aws.client("cloudformation")
    with Stubber(cf) as stub:
        for stack in ():
            stub.add_response("describe_stacks", {"Stacks": [{"StackName": f"Staging-{stack}", "StackStatus": "UPDATE_COMPLETE",
                                                              "CreationTime": "2026-11-22T00:00:00Z"}]},
                              {"StackName": f"Staging-{stack}"})
        for stack in ("Data", "Secrets", "Observability", "Oidc", "Runtime"):
            name = f"Staging-{stack}"
            stub.add_response("detect_stack_drift", {"StackDriftDetectionId": f"id-{stack}"}, {"StackName": name})
            stub.add_response("describe_stack_drift_detection_status", {
                "StackId": name, "StackDriftDetectionId": f"id-{stack}", "DetectionStatus": "DETECTION_COMPLETE",
                "StackDriftStatus": "DRIFTED" if stack == "Observability" else "IN_SYNC",
                "Timestamp": "2026-11-22T00:00:00Z"}, {"StackDriftDetectionId": f"id-{stack}"})
            drifts = []
            if stack == "Observability":
                drifts = [{"StackId": name, "LogicalResourceId": "Alarm", "ResourceType": "AWS::CloudWatch::Alarm",
                           "StackResourceDriftStatus": "MODIFIED", "Timestamp": "2026-11-22T00:00:00Z",
                           "PropertyDifferences": [{"PropertyPath": "/Threshold", "ExpectedValue": "10",
                                                    "ActualValue": "99", "DifferenceType": "NOT_EQUAL"}]}]
            stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": drifts},
                              {"StackName": name, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]})
        method, found = drift.detect(aws, "auto", None)
    assert method == "cloudformation"
    assert [(d.stack, d.logical_id, d.prop, d.expected, d.actual) for d in found] == [
        ("Staging-Observability", "Alarm", "/Threshold", "10", "99")]


def test_template_properties_no_reader_returns_are_listed(aws, capsys):
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/md/app", "RetentionInDays": 30,
                                                          "DataProtectionPolicy": {"Name": "p"}}}
    aws.client("ssm").put_parameter(Name=aws.config.nonce_parameter, Value="n", Type="SecureString",
                                    KeyId=f"alias/{aws.config.resource_prefix}-secrets")
    cf = aws.client("cloudformation")
    for stack, template in {**templates(), "Data": {"Resources": {"Group": group}}}.items():
        cf.create_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1", ChangeSetType="CREATE",
                             TemplateBody=json.dumps(template))
        cf.execute_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1")
    assert aws_ops.main(["detect-drift", "--env", "staging"]) == 0
    out = capsys.readouterr().out
    assert "no drift\nnot compared by read-back (no reader for these template properties): AWS::Logs::LogGroup.DataProtectionPolicy" in out


def test_a_widened_trust_policy_is_drift(aws):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r", "AssumeRolePolicyDocument": trust}}
    cf = aws.client("cloudformation")
    for stack, template in {**templates(), "Oidc": {"Resources": {"Role": role}}}.items():
        cf.create_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1", ChangeSetType="CREATE",
                             TemplateBody=json.dumps(template))
        cf.execute_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1")
    assert drift.readback(aws) == []
    widened = {"Version": "2012-10-17", "Statement": [{**trust["Statement"][0], "Principal": {
        "Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}}]}
    boto3.client("iam", region_name="us-east-1").update_assume_role_policy(RoleName="r", PolicyDocument=json.dumps(widened))
    [found] = drift.readback(aws)
    assert (found.logical_id, found.prop) == ("Role", "AssumeRolePolicyDocument")
    assert found.actual["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}
