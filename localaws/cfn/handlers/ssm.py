"""``AWS::SSM::Parameter``: moto's model passes ``Tags`` (a map in
CloudFormation) straight to PutParameter (a list there), ignores the name
CloudFormation generates when ``Name`` is absent, and updates by delete +
create (losing the version history). String parameters only: CloudFormation
cannot create SecureStrings (docs/requirements.md#encryption) and neither does this handler."""
from __future__ import annotations

from moto.ssm.models import ssm_backends

from .base import Handler, register


def _put(name, props, account_id, region, overwrite):
    if props.get("Type") not in ("String", "StringList"):
        raise ValueError(f"parameter type {props.get('Type')!r} is not supported by CloudFormation")
    tags = props.get("Tags") or {}
    return ssm_backends[account_id][region].put_parameter(
        name=name, description=props.get("Description"), value=props["Value"],
        parameter_type=props["Type"], allowed_pattern=props.get("AllowedPattern"), keyid=None,
        overwrite=overwrite, tags=None if overwrite else [{"Key": k, "Value": v} for k, v in tags.items()],
        data_type=props.get("DataType", "text"), tier=props.get("Tier"), policies=props.get("Policies"))


@register
class Parameter(Handler):
    TYPE = "AWS::SSM::Parameter"
    NAME_PROPERTY = "Name"

    @classmethod
    def create(cls, name, props, account_id, region):
        return _put(props.get("Name") or name, props, account_id, region, overwrite=False)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        wanted = props.get("Name") or original.name
        if wanted != original.name:
            created = _put(wanted, props, account_id, region, overwrite=False)
            cls.remove(original, account_id, region)
            return created
        # Overwrite in place: a new version, history kept, as in AWS.
        return _put(wanted, props, account_id, region, overwrite=True)

    @classmethod
    def remove(cls, resource, account_id, region):
        ssm_backends[account_id][region].delete_parameter(resource.physical_resource_id)
