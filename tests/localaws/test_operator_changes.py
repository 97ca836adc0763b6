"""What an operator or attacker can change by API on resources bin/ops reads,
on the local target (localaws/operator_changes.py), through each service's
own API: the change must be visible to the next read, as on AWS."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from localaws_kit import client

ROLE = "arn:aws:iam::123456789012:role/backup"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def plan():
    backup = client("backup")
    backup.create_backup_vault(BackupVaultName="v")
    created = backup.create_backup_plan(BackupPlan={"BackupPlanName": "p", "Rules": [
        {"RuleName": "daily", "TargetBackupVaultName": "v", "ScheduleExpression": "cron(0 5 * * ? *)",
         "Lifecycle": {"DeleteAfterDays": 35}}]})
    return backup, created["BackupPlanId"], created["VersionId"]


def test_update_backup_plan_replaces_the_rules():
    backup, plan_id, version = plan()
    answer = backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={"BackupPlanName": "p", "Rules": [
        {"RuleName": "weekly", "TargetBackupVaultName": "v", "ScheduleExpression": "cron(0 5 ? * 1 *)",
         "Lifecycle": {"DeleteAfterDays": 1}}]})
    assert answer["VersionId"] != version
    [rule] = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
    assert (rule["RuleName"], rule["Lifecycle"], rule["StartWindowMinutes"]) == ("weekly", {"DeleteAfterDays": 1}, 480)


def test_update_of_a_deleted_plan_is_refused():
    backup, plan_id, _ = plan()
    backup.delete_backup_plan(BackupPlanId=plan_id)
    with pytest.raises(ClientError) as error:
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={"BackupPlanName": "p", "Rules": []})
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_backup_selections_are_created_and_deleted():
    backup, plan_id, _ = plan()
    created = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "tables", "IamRoleArn": ROLE, "Resources": [TABLE]})
    [listed] = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert listed["SelectionId"] == created["SelectionId"]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])["BackupSelection"]
    assert got["Resources"] == [TABLE]
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError):
        backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])


def table():
    ddb = client("dynamodb")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/ours"})
    return ddb


def test_update_table_to_the_aws_owned_key():
    ddb = table()
    ddb.update_table(TableName="t", SSESpecification={"Enabled": False})
    assert "SSEDescription" not in ddb.describe_table(TableName="t")["Table"]


def test_update_table_to_another_key():
    ddb = table()
    other = "arn:aws:kms:us-east-1:123456789012:key/theirs"
    ddb.update_table(TableName="t", SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": other})
    assert ddb.describe_table(TableName="t")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == other


def test_update_stage_changes_throttling_and_access_logs():
    api = client("apigatewayv2")
    api_id = api.create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    api.create_stage(ApiId=api_id, StageName="$default", DefaultRouteSettings={"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10},
                     AccessLogSettings={"DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:g", "Format": "{}"})
    api.update_stage(ApiId=api_id, StageName="$default", DefaultRouteSettings={"ThrottlingBurstLimit": 5000})
    [stage] = api.get_stages(ApiId=api_id)["Items"]
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 5000
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 10
    assert stage["AccessLogSettings"]["Format"] == "{}"


# ---- no extension needed: checked so that a moto upgrade that breaks them shows ----

def test_route_changes_and_permissions_and_function_code():
    api = client("apigatewayv2")
    api_id = api.create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    route = api.create_route(ApiId=api_id, RouteKey="GET /health", AuthorizationType="AWS_IAM")
    api.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="NONE")
    proxy = api.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}")
    assert sorted((r["RouteKey"], r["AuthorizationType"]) for r in api.get_routes(ApiId=api_id)["Items"]) == [
        ("ANY /{proxy+}", "NONE"), ("GET /health", "NONE")]
    api.delete_route(ApiId=api_id, RouteId=proxy["RouteId"])
    assert len(api.get_routes(ApiId=api_id)["Items"]) == 1

    iam = client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    lam = client("lambda")

    def package(text):
        buf = io.BytesIO()
        zipfile.ZipFile(buf, "w").writestr("index.py", text)
        return buf.getvalue()

    before = lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="index.h",
                                 Code={"ZipFile": package("def h(e, c): return 1\n")})["CodeSha256"]
    lam.update_function_code(FunctionName="f", ZipFile=package("def h(e, c): return 2\n"))
    assert lam.get_function_configuration(FunctionName="f")["CodeSha256"] != before
    lam.add_permission(FunctionName="f", StatementId="any", Action="lambda:InvokeFunction", Principal="*")
    [statement] = json.loads(lam.get_policy(FunctionName="f")["Policy"])["Statement"]
    assert statement["Principal"] in ("*", {"AWS": "*"})
    lam.remove_permission(FunctionName="f", StatementId="any")
