"""The engine fixes: unknown types fail, failures are terminal and explained,
outputs and exports appear after change sets, Retain is honoured on update."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localaws_kit import Stack, client

TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}


def test_unknown_type_is_rejected_before_anything_is_created(stack):
    with pytest.raises(ClientError) as err:
        stack.deploy({"Topic": TOPIC, "Odd": {"Type": "AWS::Foo::Bar", "Properties": {}}})
    message = err.value.response["Error"]["Message"]
    assert "no handler for resource types ['AWS::Foo::Bar']" in message
    assert client("sns").list_topics()["Topics"] == []


def test_unknown_type_is_rejected_by_create_stack_too():
    cf = client("cloudformation")
    body = json.dumps({"Resources": {"Odd": {"Type": "AWS::Foo::Bar"}}})
    with pytest.raises(ClientError, match="no handler for resource types"):
        cf.create_stack(StackName="direct", TemplateBody=body)


@pytest.mark.parametrize("rtype", ["Custom::Thing", "AWS::CloudFormation::CustomResource"])
def test_custom_resources_are_rejected(stack, rtype):
    with pytest.raises(ClientError, match="custom resources never answer here"):
        stack.deploy({"C": {"Type": rtype, "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f"}}})


def test_failed_create_rolls_back_and_names_the_resource(stack):
    stack.deploy({"Topic": TOPIC,
                  "Policy": {"Type": "AWS::S3::BucketPolicy", "DependsOn": "Topic",
                             "Properties": {"Bucket": "missing", "PolicyDocument": {}}}})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in stack.events() if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Policy"
    assert "bucket does not exist" in failed[0]["ResourceStatusReason"]
    assert client("sns").list_topics()["Topics"] == []  # rolled back


def test_failed_update_is_terminal_and_says_it_was_not_rolled_back(stack):
    stack.deploy({"Topic": TOPIC})
    stack.deploy({"Topic": TOPIC, "Policy": {"Type": "AWS::S3::BucketPolicy",
                                              "Properties": {"Bucket": "missing", "PolicyDocument": {}}}})
    status = stack.describe()
    assert status["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    reasons = [e.get("ResourceStatusReason") or "" for e in stack.events()]
    assert any("failed to create: [Policy]" in r and "does not roll back updates" in r for r in reasons)


def test_outputs_and_exports_exist_after_a_create_change_set(stack):
    stack.deploy({"Topic": TOPIC}, {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "the-topic"}}})
    arn = stack.outputs()["TopicArn"]
    assert arn.endswith(":t")
    exports = client("cloudformation").list_exports()["Exports"]
    assert [(e["Name"], e["Value"]) for e in exports] == [("the-topic", arn)]


def test_update_of_a_type_without_update_fails_instead_of_dropping_it(stack):
    # moto's RestApi model has no update: moto would put None in its place.
    api = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api", "Description": "one"}}
    stack.deploy({"Api": api})
    api["Properties"]["Description"] = "two"
    stack.deploy({"Api": api})
    assert stack.describe()["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    failed = [e for e in stack.events() if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Api"
    assert "cannot update this resource type in place" in failed[0]["ResourceStatusReason"]


def test_retained_resource_survives_removal_from_template(stack):
    stack.deploy({"Topic": dict(TOPIC, DeletionPolicy="Retain"), "Other": {"Type": "AWS::SNS::Topic"}})
    stack.deploy({"Other": {"Type": "AWS::SNS::Topic"}})
    assert stack.describe()["StackStatus"] == "UPDATE_COMPLETE"
    names = [t["TopicArn"].rsplit(":", 1)[1] for t in client("sns").list_topics()["Topics"]]
    assert "t" in names


def test_retained_resource_survives_stack_delete(stack):
    stack.deploy({"Topic": dict(TOPIC, DeletionPolicy="Retain"), "Other": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "o"}}})
    stack.delete()
    names = [t["TopicArn"].rsplit(":", 1)[1] for t in client("sns").list_topics()["Topics"]]
    assert names == ["t"]


def test_unsupported_getatt_fails_loudly(stack):
    stack.deploy({"Meta": {"Type": "AWS::CDK::Metadata", "Properties": {}},
                  "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::GetAtt": ["Meta", "Nope"]}}}})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"


def test_second_stack_can_import_an_export():
    producer, consumer = Stack(), Stack()
    producer.deploy({"Topic": TOPIC}, {"Arn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "topic-arn"}}})
    consumer.deploy({"Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
        "TopicArn": {"Fn::ImportValue": "topic-arn"}, "Protocol": "email", "Endpoint": "a@example.com"}}})
    assert consumer.describe()["StackStatus"] == "CREATE_COMPLETE"


def test_getatt_of_an_attribute_moto_lacks_fails_loudly():
    # Some moto models raise NotImplementedError for an attribute (IAM Group's
    # Arn); moto logs it and passes the unresolved {"Fn::GetAtt": ...} on.
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import ValidationError

    class Model:
        def get_cfn_attribute(self, name):
            raise NotImplementedError('"Fn::GetAtt" : [ "{0}" , "Arn" ]"')

    with pytest.raises(ValidationError) as err:
        parsing.clean_json({"Name": {"Fn::GetAtt": ["G", "Arn"]}}, {"G": Model()})
    assert "cannot resolve Fn::GetAtt ['G', 'Arn']" in err.value.message


def test_drift_detection_answers_not_implemented_instead_of_a_500(stack):
    stack.deploy({"Topic": TOPIC})
    with pytest.raises(ClientError) as err:
        client("cloudformation").detect_stack_drift(StackName=stack.name)
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert "--method readback" in err.value.response["Error"]["Message"]


def test_change_sets_are_scoped_to_their_stack_and_removed_after_execution():
    cf = client("cloudformation")
    body = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    for stack in ("one", "two"):
        cf.create_change_set(StackName=stack, ChangeSetName="cdk-deploy-change-set", ChangeSetType="CREATE", TemplateBody=body)
    # same name, two stacks: each request sees its own
    assert cf.describe_change_set(StackName="two", ChangeSetName="cdk-deploy-change-set")["StackName"] == "two"
    cf.execute_change_set(StackName="one", ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(ClientError) as err:
        cf.describe_change_set(StackName="one", ChangeSetName="cdk-deploy-change-set")
    assert err.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert cf.describe_change_set(StackName="two", ChangeSetName="cdk-deploy-change-set")["ExecutionStatus"] == "AVAILABLE"


def test_failed_delete_keeps_the_stack_with_the_reason(stack):
    stack.deploy({"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "full"}}})
    client("s3").put_object(Bucket="full", Key="k", Body=b"x")
    stack.delete()
    described = stack.describe()
    assert described["StackStatus"] == "DELETE_FAILED"
    assert any("BucketNotEmpty" in (e.get("ResourceStatusReason") or "") for e in stack.events())


def test_deleting_a_change_set_that_is_gone_succeeds(stack):
    stack.deploy({"Topic": TOPIC})
    client("cloudformation").delete_change_set(StackName=stack.name, ChangeSetName="cdk-deploy-change-set")


def test_use_previous_value_of_an_ssm_typed_parameter(stack):
    client("ssm").put_parameter(Name="/infra/key-arn", Value="arn:aws:kms:us-east-1:123456789012:key/k", Type="String")
    template = {"Parameters": {"KeyArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/infra/key-arn"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "KeyArn"}}}}}
    cf = client("cloudformation")
    cf.create_change_set(StackName=stack.name, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=json.dumps(template),
                         Parameters=[{"ParameterKey": "KeyArn", "ParameterValue": "/infra/key-arn"}])
    cf.execute_change_set(StackName=stack.name, ChangeSetName="c1")
    template["Resources"]["Topic"]["Properties"]["Tags"] = [{"Key": "k", "Value": "v"}]
    cf.create_change_set(StackName=stack.name, ChangeSetName="c2", ChangeSetType="UPDATE", TemplateBody=json.dumps(template),
                         Parameters=[{"ParameterKey": "KeyArn", "UsePreviousValue": True}])
    cf.execute_change_set(StackName=stack.name, ChangeSetName="c2")
    assert stack.describe()["StackStatus"] == "UPDATE_COMPLETE"


def test_retain_except_on_create_is_deleted_by_a_create_rollback_only(stack):
    topic = {"Type": "AWS::SNS::Topic", "DeletionPolicy": "RetainExceptOnCreate", "Properties": {"TopicName": "t"}}
    stack.deploy({"Topic": topic, "Policy": {"Type": "AWS::S3::BucketPolicy", "DependsOn": "Topic",
                                             "Properties": {"Bucket": "missing", "PolicyDocument": {}}}})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"
    assert client("sns").list_topics()["Topics"] == []
    other = Stack()
    other.deploy({"Topic": topic})
    other.delete()
    assert len(client("sns").list_topics()["Topics"]) == 1


def test_ssm_dynamic_references_are_resolved(stack):
    client("ssm").put_parameter(Name="/infra/api-id", Value="abc123", Type="String")
    stack.deploy({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "DisplayName": {"Fn::Join": ["", ["api-", "{{resolve:ssm:/infra/api-id}}", "-x"]]}}}})
    assert stack.describe()["StackStatus"] == "CREATE_COMPLETE"
    names = [client("sns").get_topic_attributes(TopicArn=t["TopicArn"])["Attributes"].get("DisplayName") for t in client("sns").list_topics()["Topics"]]
    assert "api-abc123-x" in names


def test_a_dynamic_reference_to_a_missing_parameter_fails_the_resource(stack):
    stack.deploy({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "{{resolve:ssm:/infra/missing}}"}}})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("/infra/missing" in (e.get("ResourceStatusReason") or "") for e in stack.events())
