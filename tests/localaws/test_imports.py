"""Resource import on the local target (localaws/cfn/imports.py), through
moto's CloudFormation API the way ``cdk import`` drives it."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localaws_kit import Stack, client

ACCOUNT = "123456789012"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]}


def resources():
    return {
        "Key": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "Properties": {"KeyPolicy": POLICY, "EnableKeyRotation": True}},
        "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/data", "TargetKeyId": {"Ref": "Key"}}},
        "Table": {"Type": "AWS::DynamoDB::GlobalTable", "DeletionPolicy": "Retain", "Properties": {
            "TableName": "events", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": [{"Region": "us-east-1", "SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}]}},
        "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "baselines"}},
        "Policy": {"Type": "AWS::S3::BucketPolicy", "DeletionPolicy": "Retain", "Properties": {
            "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::baselines/*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
    }


RETAINED = ("Key", "Table", "Bucket", "Policy")


def import_change_set(name, template, to_import, change_set="import"):
    cf = client("cloudformation")
    cf.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType="IMPORT",
                         TemplateBody=json.dumps(template), ResourcesToImport=to_import)
    return cf


def destroyed_stack():
    """Deploy, write data, delete the stack: the retained resources stay, unmanaged."""
    stack = Stack("data")
    stack.deploy(resources())
    client("dynamodb").put_item(TableName="events", Item={"pk": {"S": "a"}, "v": {"S": "kept"}})
    key_id = [r for r in client("cloudformation").list_stack_resources(StackName="data")["StackResourceSummaries"]
              if r["LogicalResourceId"] == "Key"][0]["PhysicalResourceId"]
    stack.delete()
    return key_id


def mapping(key_id):
    return [
        {"LogicalResourceId": "Key", "ResourceType": "AWS::KMS::Key", "ResourceIdentifier": {"KeyId": key_id}},
        {"LogicalResourceId": "Table", "ResourceType": "AWS::DynamoDB::GlobalTable", "ResourceIdentifier": {"TableName": "events"}},
        {"LogicalResourceId": "Bucket", "ResourceType": "AWS::S3::Bucket", "ResourceIdentifier": {"BucketName": "baselines"}},
        {"LogicalResourceId": "Policy", "ResourceType": "AWS::S3::BucketPolicy", "ResourceIdentifier": {"Bucket": "baselines"}},
    ]


def test_template_summary_names_the_import_identifiers():
    summary = client("cloudformation").get_template_summary(TemplateBody=json.dumps({"Resources": resources()}))
    identifiers = {s["ResourceType"]: s["ResourceIdentifiers"] for s in summary["ResourceIdentifierSummaries"]}
    assert identifiers == {"AWS::KMS::Key": ["KeyId"], "AWS::DynamoDB::GlobalTable": ["TableName"],
                           "AWS::S3::Bucket": ["BucketName"], "AWS::S3::BucketPolicy": ["Bucket"]}


def test_import_adopts_retained_resources_then_an_update_adds_the_rest():
    key_id = destroyed_stack()
    assert client("s3").get_bucket_policy(Bucket="baselines")  # retained with its bucket
    only_retained = {"Resources": {k: v for k, v in resources().items() if k in RETAINED}}
    cf = import_change_set("data", only_retained, mapping(key_id))
    changes = cf.describe_change_set(StackName="data", ChangeSetName="import")["Changes"]
    assert sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes) == \
        [("Import", r) for r in sorted(RETAINED)]
    cf.execute_change_set(StackName="data", ChangeSetName="import")
    assert cf.describe_stacks(StackName="data")["Stacks"][0]["StackStatus"] == "IMPORT_COMPLETE"
    listed = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.list_stack_resources(StackName="data")["StackResourceSummaries"]}
    assert listed == {"Key": key_id, "Table": "events", "Bucket": "baselines", "Policy": "baselines"}
    assert len(client("kms").list_keys()["Keys"]) == 1  # nothing created
    assert client("dynamodb").get_item(TableName="events", Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "kept"}

    # A normal update then adds what was not retained; the alias lands on the key holding the data.
    cf.create_change_set(StackName="data", ChangeSetName="rest", ChangeSetType="UPDATE",
                         TemplateBody=json.dumps({"Resources": resources()}), Tags=[{"Key": "Project", "Value": "md"}])
    cf.execute_change_set(StackName="data", ChangeSetName="rest")
    described = cf.describe_stacks(StackName="data")["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    # The update's tags reach the stack (the CDK compares them to decide whether to redeploy).
    assert described["Tags"] == [{"Key": "Project", "Value": "md"}]
    assert client("kms").describe_key(KeyId="alias/data")["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.parametrize("edit,message", [
    (lambda t, m: t["Resources"]["Table"].pop("DeletionPolicy"), "must have a DeletionPolicy"),
    (lambda t, m: m[1]["ResourceIdentifier"].update(TableName="missing"), "with TableName missing does not exist"),
    (lambda t, m: t["Resources"].update(Alias=resources()["Alias"]), "An import creates nothing"),
    (lambda t, m: m[0].update(ResourceIdentifier={"Arn": "x"}), "is identified by KeyId"),
    (lambda t, m: m.append({"LogicalResourceId": "Other", "ResourceType": "AWS::S3::Bucket",
                            "ResourceIdentifier": {"BucketName": "baselines"}}), "Other to import is not in the template"),
])
def test_import_is_refused_before_anything_happens(edit, message):
    key_id = destroyed_stack()
    template = {"Resources": {k: v for k, v in resources().items() if k in RETAINED}}
    to_import = mapping(key_id)
    edit(template, to_import)
    with pytest.raises(ClientError, match=message):
        import_change_set("data", template, to_import)


def test_a_resource_another_stack_manages_is_refused():
    Stack("owner").deploy({"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "taken"}}})
    template = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "taken"}}}}
    with pytest.raises(ClientError, match="already belongs to stack resource owner/Bucket"):
        import_change_set("thief", template, [{"LogicalResourceId": "B", "ResourceType": "AWS::S3::Bucket",
                                                "ResourceIdentifier": {"BucketName": "taken"}}])
