"""CloudWatch Logs: moto's ``AWS::Logs::LogGroup`` cannot be updated (a changed
retention fails the update); this handler changes retention and key in place."""
from __future__ import annotations

from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import logs_backends

from .base import Handler, register


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
        return MotoLogGroup.create_from_cloudformation_json(name, {"Properties": props}, account_id, region)

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
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = logs_backends[account_id][region]
        if resource.physical_resource_id in backend.groups:
            backend.delete_log_group(resource.physical_resource_id)
