"""``AWS::CDK::Metadata``: CloudFormation records it and creates nothing.
moto skips it as an unknown type; now that unknown types fail, it needs an
explicit no-op."""
from __future__ import annotations

from .base import Handler, Resource, register


@register
class CdkMetadata(Handler):
    TYPE = "AWS::CDK::Metadata"

    @classmethod
    def create(cls, name, props, account_id, region):
        return Resource(cls, name, {}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        return None
