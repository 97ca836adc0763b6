"""A template body is data: a YAML tag that would build a Python object (and
so run code while parsing) is refused, on every path that parses templates."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localaws.cfn import template
from localaws_kit import client

# Parsing this with yaml.Loader runs `touch <marker>`.
EVIL = "Resources: !!python/object/apply:os.system ['touch {marker}']\n"


def test_cloudformation_short_tags_parse_as_intrinsics():
    body = ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
            "      TopicName: !Sub '${AWS::StackName}-t'\n      DisplayName: !Join ['-', [!Ref AWS::Region, !GetAtt Q.Arn]]\n"
            "Conditions:\n  Prod: !Equals [!Ref Env, production]\n")
    parsed = template.parse(body)
    properties = parsed["Resources"]["T"]["Properties"]
    assert properties["TopicName"] == {"Fn::Sub": "${AWS::StackName}-t"}
    assert properties["DisplayName"] == {"Fn::Join": ["-", [{"Ref": "AWS::Region"}, {"Fn::GetAtt": ["Q", "Arn"]}]]}
    assert parsed["Conditions"]["Prod"] == {"Fn::Equals": [{"Ref": "Env"}, "production"]}


def test_a_python_tag_is_refused_by_the_parser_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(Exception, match="Template format error") as error:
        template.parse(EVIL.format(marker=marker))
    assert "python/object/apply" in str(error.value)
    assert not marker.exists()


def test_an_unknown_short_tag_is_refused():
    with pytest.raises(Exception, match="Template format error"):
        template.parse("Resources: !NotAnIntrinsic x\n")


@pytest.mark.parametrize("call", ["create_stack", "validate_template", "get_template_summary"])
def test_a_python_tag_is_refused_through_the_api_and_nothing_runs(tmp_path, call):
    marker = tmp_path / "ran"
    cf = client("cloudformation")
    kwargs = {"TemplateBody": EVIL.format(marker=marker)}
    if call == "create_stack":
        kwargs["StackName"] = "evil"
    with pytest.raises(Exception):
        getattr(cf, call)(**kwargs)
    assert not marker.exists()
    if call == "create_stack":
        with pytest.raises(ClientError):
            cf.describe_stacks(StackName="evil")
