"""KMS keys: CDK writes ``KeyPolicy`` as a JSON object, moto's model stores it
as given, so GetKeyPolicy returns a dict the API cannot serialise. Also adds
the in-place update (policy, description, rotation, enabled) moto lacks."""
from __future__ import annotations

import json

from moto.kms.models import Key as MotoKey
from moto.kms.models import kms_backends

from .base import Handler, as_bool, register


def _policy_text(policy) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


@register
class Key(Handler):
    TYPE = "AWS::KMS::Key"
    ATTRIBUTES = ("Arn", "KeyId")

    @classmethod
    def create(cls, name, props, account_id, region):
        props = dict(props)
        if "KeyPolicy" in props:
            props["KeyPolicy"] = _policy_text(props["KeyPolicy"])
        # moto's model passes Tags straight to CreateKey, whose shape is TagKey/TagValue.
        props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
        key = MotoKey.create_from_cloudformation_json(name, {"Properties": props}, account_id, region)
        key.key_rotation_status = as_bool(props.get("EnableKeyRotation"))
        if props.get("RotationPeriodInDays"):
            key.rotation_period_in_days = int(props["RotationPeriodInDays"])
        return key

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = kms_backends[account_id][region]
        if "KeyPolicy" in props:
            backend.put_key_policy(original.id, _policy_text(props["KeyPolicy"]))
        backend.update_key_description(original.id, props.get("Description", ""))
        original.key_rotation_status = as_bool(props.get("EnableKeyRotation"))
        original.enabled = as_bool(props.get("Enabled"), default=True)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        # AWS never deletes a key at once: it schedules deletion (7-30 days).
        backend = kms_backends[account_id][region]
        backend.schedule_key_deletion(resource.physical_resource_id, 30)
