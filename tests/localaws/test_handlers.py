"""Each handler on its own: deploy through CloudFormation, read back through
the service's API (moto's), change it through a change set, delete it."""
from __future__ import annotations

import json

from localaws_kit import Stack, client

ACCOUNT = "123456789012"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]}


def key(**props):
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": POLICY, "EnableKeyRotation": True, **props}}


def global_table(pitr_days=7, deletion_protection=True):
    return {"Type": "AWS::DynamoDB::GlobalTable", "DeletionPolicy": "Retain", "Properties": {
        "TableName": "events", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": deletion_protection,
                      "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
                      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True,
                                                           "RecoveryPeriodInDays": pitr_days}}]}}


def test_global_table_pitr_sse_deletion_protection_and_update(stack):
    stack.deploy({"Key": key(), "Table": global_table(7)}, {"Arn": {"Value": {"Fn::GetAtt": ["Table", "Arn"]}}})
    ddb = client("dynamodb")
    table = ddb.describe_table(TableName="events")["Table"]
    key_arn = client("kms").list_keys()["Keys"][0]["KeyArn"]
    assert table["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key_arn}
    assert table["DeletionProtectionEnabled"] is True
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    pitr = ddb.describe_continuous_backups(TableName="events")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == ("ENABLED", 7)
    assert stack.outputs()["Arn"] == table["TableArn"]

    stack.deploy({"Key": key(), "Table": global_table(35)})
    pitr = ddb.describe_continuous_backups(TableName="events")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["RecoveryPeriodInDays"] == 35


def test_global_table_refuses_a_key_schema_change(stack):
    stack.deploy({"Key": key(), "Table": global_table()})
    changed = global_table()
    changed["Properties"]["KeySchema"] = [{"AttributeName": "other", "KeyType": "HASH"}]
    stack.deploy({"Key": key(), "Table": changed})
    assert stack.describe()["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert any("key schema replaces the table" in (e.get("ResourceStatusReason") or "") for e in stack.events())


def test_global_table_in_another_region_fails(stack):
    table = global_table()
    table["Properties"]["Replicas"].append({"Region": "eu-west-1"})
    stack.deploy({"Key": key(), "Table": table})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"


def test_table_pitr_and_sse(stack):
    stack.deploy({"Key": key(), "T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": "plain", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "Key"}},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}}})
    ddb = client("dynamodb")
    assert ddb.describe_table(TableName="plain")["Table"]["SSEDescription"]["Status"] == "ENABLED"
    pitr = ddb.describe_continuous_backups(TableName="plain")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_kms_key_dict_policy_rotation_and_update(stack):
    stack.deploy({"Key": key(Description="one", Tags=[{"Key": "Project", "Value": "md"}])}, {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}})
    kms = client("kms")
    key_id = kms.list_keys()["Keys"][0]["KeyId"]
    assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == POLICY
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "Project", "TagValue": "md"}]
    stack.deploy({"Key": key(Description="two", EnableKeyRotation=False)})
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "two"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


def test_bucket_settings_policy_and_update(stack):
    bucket = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
        "BucketName": "data-bucket",
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}}}]},
        "LifecycleConfiguration": {"Rules": [{"Id": "old", "Status": "Enabled",
                                              "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "data/"},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}}
    logs = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "log-bucket"}}
    tls_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                "Resource": ["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    resources = {"Key": key(), "Logs": logs, "Bucket": bucket,
                 "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": tls_only}}}
    stack.deploy(resources)
    assert stack.describe()["StackStatus"] == "CREATE_COMPLETE"
    s3 = client("s3")
    assert s3.get_bucket_versioning(Bucket="data-bucket")["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket="data-bucket")["PublicAccessBlockConfiguration"].values())
    assert json.loads(s3.get_bucket_policy(Bucket="data-bucket")["Policy"]) == tls_only
    # The TLS-only Deny must not block requests to the emulator (service_fixes).
    s3.put_object(Bucket="data-bucket", Key="k", Body=b"x")
    rule = s3.get_bucket_lifecycle_configuration(Bucket="data-bucket")["Rules"][0]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert s3.get_bucket_logging(Bucket="data-bucket")["LoggingEnabled"]["TargetBucket"] == "log-bucket"
    enc = s3.get_bucket_encryption(Bucket="data-bucket")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    bucket["Properties"]["VersioningConfiguration"] = {"Status": "Suspended"}
    stack.deploy(resources)
    assert s3.get_bucket_versioning(Bucket="data-bucket")["Status"] == "Suspended"


def test_alarm_metric_and_metric_math_and_threshold_update(stack):
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "throttle", "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
        "MetricName": "ReadThrottleEvents", "Namespace": "AWS/DynamoDB", "Period": 300, "Statistic": "Sum",
        "Threshold": 10, "Dimensions": [{"Name": "TableName", "Value": "events"}],
        "AlarmActions": [{"Ref": "Topic"}], "TreatMissingData": "notBreaching"}}
    math = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "error-rate", "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "Threshold": 1,
        "Metrics": [{"Id": "rate", "Expression": "100*e/i", "ReturnData": True},
                    {"Id": "e", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 300, "Stat": "Sum"}},
                    {"Id": "i", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations"}, "Period": 300, "Stat": "Sum"}}]}}
    stack.deploy({"Topic": topic, "Alarm": alarm, "Math": math}, {"AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}})
    cw = client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    assert alarms["throttle"]["Threshold"] == 10
    assert alarms["throttle"]["AlarmActions"] == [client("sns").list_topics()["Topics"][0]["TopicArn"]]
    assert [m["Id"] for m in alarms["error-rate"]["Metrics"]] == ["rate", "e", "i"]
    assert stack.outputs()["AlarmArn"] == alarms["throttle"]["AlarmArn"]
    alarm["Properties"]["Threshold"] = 20
    stack.deploy({"Topic": topic, "Alarm": alarm, "Math": math})
    assert cw.describe_alarms(AlarmNames=["throttle"])["MetricAlarms"][0]["Threshold"] == 20
    stack.delete()
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_sns_subscription_and_topic_policy(stack):
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts", "KmsMasterKeyId": {"Ref": "Key"}}}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
              "Resource": {"Ref": "Topic"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    stack.deploy({"Key": key(), "Topic": topic,
                  "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "oncall@example.com"}},
                  "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": policy}}})
    sns = client("sns")
    arn = sns.list_topics()["Topics"][0]["TopicArn"]
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "oncall@example.com")]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attrs["Policy"])["Statement"][0]["Effect"] == "Deny"
    assert attrs["KmsMasterKeyId"]
    stack.delete()
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_cloudtrail_trail(stack):
    stack.deploy({"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "trail-bucket"}},
                  "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
                      "TrailName": "audit", "S3BucketName": {"Ref": "Bucket"}, "IsLogging": True,
                      "EnableLogFileValidation": True, "IsMultiRegionTrail": True}}},
                 {"Arn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}}})
    ct = client("cloudtrail")
    trail = ct.get_trail(Name="audit")["Trail"]
    assert trail["LogFileValidationEnabled"] is True and trail["IsMultiRegionTrail"] is True
    assert ct.get_trail_status(Name="audit")["IsLogging"] is True
    assert stack.outputs()["Arn"] == trail["TrailARN"]


def test_oidc_provider(stack):
    stack.deploy({"P": {"Type": "AWS::IAM::OIDCProvider", "Properties": {
        "Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"],
        "ThumbprintList": ["6938fd4d98bab03faadb97b34396831e3780aea1"]}}}, {"Arn": {"Value": {"Ref": "P"}}})
    iam = client("iam")
    arn = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    assert stack.outputs()["Arn"] == arn
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com"]
    stack.delete()
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_backup_vault_plan_selection(stack):
    stack.deploy({
        "Key": key(),
        "Vault": {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultName": "vault", "EncryptionKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanName": "daily", "BackupPlanRule": [
            {"RuleName": "daily", "TargetBackupVault": {"Ref": "Vault"}, "ScheduleExpression": "cron(0 5 * * ? *)",
             "Lifecycle": {"DeleteAfterDays": 35}}]}}},
        "Selection": {"Type": "AWS::Backup::BackupSelection", "Properties": {"BackupPlanId": {"Ref": "Plan"}, "BackupSelection": {
            "SelectionName": "tables", "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup", "Resources": ["arn:aws:dynamodb:us-east-1:123456789012:table/events"]}}},
    })
    assert stack.describe()["StackStatus"] == "CREATE_COMPLETE"
    backup = client("backup")
    vault = backup.describe_backup_vault(BackupVaultName="vault")
    assert vault["EncryptionKeyArn"] == client("kms").list_keys()["Keys"][0]["KeyArn"]
    plan_id = backup.list_backup_plans()["BackupPlansList"][0]["BackupPlanId"]
    rule = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]
    assert (rule["TargetBackupVaultName"], rule["Lifecycle"]["DeleteAfterDays"]) == ("vault", 35)
    from moto.backup.models import backup_backends

    selections = backup_backends[ACCOUNT]["us-east-1"].plans[plan_id].selections
    assert [s["SelectionName"] for s in selections.values()] == ["tables"]


def test_log_group_retention_update(stack):
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app", "RetentionInDays": 30}}
    stack.deploy({"G": group})
    logs = client("logs")
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 30
    group["Properties"]["RetentionInDays"] = 90
    stack.deploy({"G": group})
    assert stack.describe()["StackStatus"] == "UPDATE_COMPLETE"
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 90


def test_managed_policy_update_and_delete(stack):
    role = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r", "AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}

    def policy(action):
        return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"ManagedPolicyName": "p", "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}}}

    stack.deploy({"Role": role, "P": policy("s3:GetObject")})
    iam = client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/p"
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"][0]["PolicyArn"] == arn
    stack.deploy({"Role": role, "P": policy("s3:PutObject")})
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    assert "s3:PutObject" in json.dumps(document)
    stack.deploy({"Role": role})
    assert stack.describe()["StackStatus"] == "UPDATE_COMPLETE"
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_http_api_stage_integration_route(stack):
    api = {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "oracle", "ProtocolType": "HTTP"}}
    stage = {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
        "ApiId": {"Ref": "Api"}, "StageName": "$default", "AutoDeploy": True,
        "AccessLogSettings": {"DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:/api", "Format": "$context.requestId"},
        "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}}}
    integration = {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
        "ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0",
        "IntegrationUri": "arn:aws:lambda:us-east-1:123456789012:function:oracle"}}
    route = {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
        "ApiId": {"Ref": "Api"}, "RouteKey": "POST /check", "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]}}}
    stack.deploy({"Api": api, "Stage": stage, "Integration": integration, "Route": route},
                 {"Url": {"Value": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}}})
    gw = client("apigatewayv2")
    api_id = gw.get_apis()["Items"][0]["ApiId"]
    assert stack.outputs()["Url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    got = gw.get_stage(ApiId=api_id, StageName="$default")
    assert got["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    assert got["AccessLogSettings"]["Format"] == "$context.requestId"
    integration_id = gw.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    assert gw.get_routes(ApiId=api_id)["Items"][0]["Target"] == f"integrations/{integration_id}"
    stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] = 10
    stack.deploy({"Api": api, "Stage": stage, "Integration": integration, "Route": route})
    assert gw.get_stage(ApiId=api_id, StageName="$default")["DefaultRouteSettings"]["ThrottlingRateLimit"] == 10


def test_cdk_metadata_is_a_no_op(stack):
    stack.deploy({"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:abc"}}})
    assert stack.describe()["StackStatus"] == "CREATE_COMPLETE"


def test_ssm_string_parameter_map_tags_generated_name_and_versioned_update(stack):
    param = {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/md/infra/key-arn", "Type": "String", "Value": "one",
                                                          "Tags": {"Project": "md"}}}
    unnamed = {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "x"}}
    stack.deploy({"P": param, "U": unnamed}, {"Unnamed": {"Value": {"Ref": "U"}}})
    ssm = client("ssm")
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/md/infra/key-arn")["TagList"] == [
        {"Key": "Project", "Value": "md"}]
    assert ssm.get_parameter(Name=stack.outputs()["Unnamed"])["Parameter"]["Value"] == "x"
    param["Properties"]["Value"] = "two"
    stack.deploy({"P": param, "U": unnamed})
    got = ssm.get_parameter(Name="/md/infra/key-arn")["Parameter"]
    assert (got["Value"], got["Version"]) == ("two", 2)


def test_ssm_securestring_is_refused_as_in_cloudformation(stack):
    stack.deploy({"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/s", "Type": "SecureString", "Value": "v"}}})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"


def test_lambda_function_tracing_concurrency_tags_and_update(stack):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return 1\n")
    s3 = client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="fn.zip", Body=buf.getvalue())
    role = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "fn", "AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}

    def function(timeout, mode):
        return {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "oracle", "Runtime": "python3.12", "Handler": "index.handler", "Timeout": timeout,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"S3Bucket": "code", "S3Key": "fn.zip"},
            "TracingConfig": {"Mode": mode}, "ReservedConcurrentExecutions": 5, "Architectures": ["arm64"],
            "Tags": [{"Key": "Project", "Value": "md"}]}}

    stack.deploy({"Role": role, "Fn": function(10, "Active")})
    lam = client("lambda")
    conf = lam.get_function_configuration(FunctionName="oracle")
    assert (conf["TracingConfig"]["Mode"], conf["Timeout"], conf["Architectures"]) == ("Active", 10, ["arm64"])
    assert lam.get_function_concurrency(FunctionName="oracle")["ReservedConcurrentExecutions"] == 5
    stack.deploy({"Role": role, "Fn": function(20, "PassThrough")})
    conf = lam.get_function_configuration(FunctionName="oracle")
    assert (conf["TracingConfig"]["Mode"], conf["Timeout"]) == ("PassThrough", 20)

    def permission(source):
        return {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
            "Principal": "apigateway.amazonaws.com", "SourceArn": source}}

    def statements():
        return json.loads(lam.get_policy(FunctionName="oracle")["Policy"])["Statement"]

    stack.deploy({"Role": role, "Fn": function(20, "PassThrough"), "Invoke": permission("arn:aws:execute-api:us-east-1:123456789012:a/*")})
    assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in statements()] == ["arn:aws:execute-api:us-east-1:123456789012:a/*"]
    stack.deploy({"Role": role, "Fn": function(20, "PassThrough"), "Invoke": permission("arn:aws:execute-api:us-east-1:123456789012:b/*")})
    assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in statements()] == ["arn:aws:execute-api:us-east-1:123456789012:b/*"]
    stack.deploy({"Role": role, "Fn": function(20, "PassThrough")})
    try:
        assert statements() == []
    except lam.exceptions.ResourceNotFoundException:
        pass  # no policy left at all


def test_topic_update_keeps_subscriptions_and_policy(stack):
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts", "DisplayName": "one",
                                                       "Tags": [{"Key": "Project", "Value": "md"}]}}
    others = {
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@example.com"}},
        "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}]}}}}
    stack.deploy({"Topic": topic, **others}, {"Arn": {"Value": {"Ref": "Topic"}}, "Name": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}}})
    assert stack.outputs()["Name"] == "alerts"
    topic["Properties"]["DisplayName"] = "two"
    stack.deploy({"Topic": topic, **others})
    sns = client("sns")
    arn = sns.list_topics()["Topics"][0]["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "two"
    assert json.loads(attrs["Policy"])["Statement"][0]["Effect"] == "Deny"
    assert len(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 1
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "Project", "Value": "md"}]


def test_role_managed_policies_inline_policies_and_trust_update(stack, monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # as localaws/server.py does
    def role(subject, managed):
        return {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "deploy", "MaxSessionDuration": 3600, "ManagedPolicyArns": managed,
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": subject}}}]},
            "Policies": [{"PolicyName": "read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}]}}

    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    stack.deploy({"Role": role("repo:o/r:environment:staging", [basic])}, {"Name": {"Value": {"Ref": "Role"}}})
    iam = client("iam")
    assert stack.outputs()["Name"] == "deploy"
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="deploy")["AttachedPolicies"]] == [basic]
    assert iam.list_role_policies(RoleName="deploy")["PolicyNames"] == ["read"]
    stack.deploy({"Role": role("repo:o/r:environment:production", [])})
    trust = iam.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == "repo:o/r:environment:production"
    assert iam.list_attached_role_policies(RoleName="deploy")["AttachedPolicies"] == []
    stack.delete()
    assert iam.list_roles()["Roles"] == []


def test_role_update_keeps_the_inline_policy_of_a_policy_resource(stack):
    """CDK puts a role's grants in a separate AWS::IAM::Policy (DefaultPolicy); a trust
    change of the role must not remove it (CloudFormation leaves it alone), while a
    policy the role's own ``Policies`` dropped does go."""
    def template(subject, own):
        return {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": "oracle",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": subject}}}]},
                "Policies": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}] if own else []}},
            "Grants": {"Type": "AWS::IAM::Policy", "Properties": {
                "PolicyName": "RoleDefaultPolicy", "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}]}}},
        }

    stack.deploy(template("repo:o/r:environment:staging", own=True))
    iam = client("iam")
    assert sorted(iam.list_role_policies(RoleName="oracle")["PolicyNames"]) == ["RoleDefaultPolicy", "own"]
    stack.deploy(template("repo:o/other:environment:staging", own=False))
    assert iam.list_role_policies(RoleName="oracle")["PolicyNames"] == ["RoleDefaultPolicy"]
    stack.delete()
