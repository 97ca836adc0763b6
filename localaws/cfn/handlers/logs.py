"""CloudWatch Logs: moto's ``AWS::Logs::LogGroup`` cannot be updated (a changed
retention fails the update); this handler changes retention and key in place.
``Fn::GetAtt Arn`` is the ARN with ``:*``, as CloudFormation returns it
(moto's model returns it without), so what a trail or policy receives is
what it would receive in AWS."""
from __future__ import annotations

from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import logs_backends

from .base import Handler, register


def _cloudformation_arn(group) -> None:
    original = group.get_cfn_attribute

    def get_cfn_attribute(attribute_name: str):
        return f"{group.arn}:*" if attribute_name == "Arn" else original(attribute_name)

    group.get_cfn_attribute = get_cfn_attribute


@register
class LogGroup(Handler):
    TYPE = "AWS::Logs::LogGroup"
    NAME_PROPERTY = "LogGroupName"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name, props, account_id, region):
        props = dict(props)
        if "KmsKeyId" in props:
            props["kmsKeyId"] = props.pop("KmsKeyId")  # the keyword moto's model reads
        group = MotoLogGroup.create_from_cloudformation_json(name, {"Properties": props}, account_id, region)
        _cloudformation_arn(group)
        return group

    @classmethod
    def update(cls, original, name, props, account_id, region):
        if props.get("LogGroupName", original.name) != original.name:
            raise ValueError("renaming a log group replaces it; the local target refuses")
        backend = logs_backends[account_id][region]
        if props.get("RetentionInDays") is None:
            backend.delete_retention_policy(original.name)
        else:
            backend.put_retention_policy(original.name, int(props["RetentionInDays"]))
        original.kms_key_id = props.get("KmsKeyId")
        _cloudformation_arn(original)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = logs_backends[account_id][region]
        if resource.physical_resource_id in backend.groups:
            backend.delete_log_group(resource.physical_resource_id)
