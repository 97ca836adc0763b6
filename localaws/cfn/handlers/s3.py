"""S3: the bucket settings moto's ``AWS::S3::Bucket`` model ignores
(versioning, public access block, lifecycle, access logging, ownership
controls, the bucket key of the default encryption) and ``AWS::S3::BucketPolicy``, which moto does not handle."""
from __future__ import annotations

import json
from typing import Any

from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from .base import Handler, Resource, as_bool, register

_PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class BucketNotEmpty(Exception):
    def __init__(self, bucket: str):
        super().__init__(f"BucketNotEmpty: The bucket {bucket} you tried to delete is not empty")


def _backend(account_id: str, region: str):
    return s3_backends[account_id][get_partition(region)]


def _lifecycle_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudFormation's LifecycleConfiguration in the XML-API shape moto stores."""
    rules = []
    for rule in config.get("Rules", []):
        api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled"),
                               "Filter": {"Prefix": rule.get("Prefix", "")}}
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
        if "ExpiredObjectDeleteMarker" in rule:
            api["Expiration"] = {"ExpiredObjectDeleteMarker": str(rule["ExpiredObjectDeleteMarker"]).lower()}
        if "NoncurrentVersionExpiration" in rule:
            nve = rule["NoncurrentVersionExpiration"]
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(nve["NoncurrentDays"])}
        elif "NoncurrentVersionExpirationInDays" in rule:
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(rule["NoncurrentVersionExpirationInDays"])}
        if rule.get("NoncurrentVersionTransitions"):
            api["NoncurrentVersionTransition"] = [
                {"NoncurrentDays": str(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
                for t in rule["NoncurrentVersionTransitions"]
            ]
        if rule.get("Transitions"):
            api["Transition"] = [
                {"Days": str(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in rule["Transitions"]
            ]
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": str(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
        rules.append(api)
    return rules


def apply_bucket_settings(bucket: FakeBucket, props: dict[str, Any], account_id: str, region: str) -> None:
    backend = _backend(account_id, region)
    versioning = (props.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(bucket.name, versioning)
    pab = props.get("PublicAccessBlockConfiguration")
    if pab:
        backend.put_public_access_block(bucket.name, {f: as_bool(pab.get(f)) for f in _PAB_FIELDS})
    else:
        backend.delete_public_access_block(bucket.name)
    lifecycle = props.get("LifecycleConfiguration")
    if lifecycle:
        backend.put_bucket_lifecycle(bucket.name, _lifecycle_rules(lifecycle))
    logging = props.get("LoggingConfiguration")
    if logging:
        # Set directly: moto's PutBucketLogging also checks the target bucket's
        # policy, which CloudFormation may attach after this bucket exists
        # (CDK does not order them). The target must exist, as in AWS.
        target = logging.get("DestinationBucketName")
        if target not in backend.buckets:
            raise ValueError(f"logging target bucket {target} does not exist")
        bucket.logging = {"TargetBucket": target, "TargetPrefix": logging.get("LogFilePrefix", "")}
    else:
        bucket.logging = {}
    encryption = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if encryption and bucket.encryption:
        # moto's model keeps the algorithm and key but drops BucketKeyEnabled.
        bucket.encryption["Rule"]["BucketKeyEnabled"] = str(as_bool(encryption[0].get("BucketKeyEnabled"))).lower()
    ownership = props.get("OwnershipControls")
    if ownership:
        backend.put_bucket_ownership_controls(bucket.name, ownership["Rules"][0]["ObjectOwnership"])


@register
class Bucket(Handler):
    TYPE = "AWS::S3::Bucket"
    NAME_PROPERTY = "BucketName"
    ATTRIBUTES = ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL")

    @classmethod
    def create(cls, name, props, account_id, region):
        bucket = FakeBucket.create_from_cloudformation_json(name, {"Properties": props}, account_id, region)
        apply_bucket_settings(bucket, props, account_id, region)
        return bucket  # moto's own object: Ref/GetAtt behave as moto defines

    @classmethod
    def update(cls, original, name, props, account_id, region):
        if props.get("BucketName", original.name) != original.name:
            raise ValueError("renaming a bucket replaces it (its objects stay behind); the local target refuses")
        props = dict(props, BucketName=original.name)
        FakeBucket.update_from_cloudformation_json(original, name, {"Properties": props}, account_id, region)
        apply_bucket_settings(original, props, account_id, region)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        # S3 refuses to delete a bucket that still holds objects; moto's
        # backend just returns None, so say it as S3 does.
        if _backend(account_id, region).delete_bucket(resource.physical_resource_id) is None:
            raise BucketNotEmpty(resource.physical_resource_id)


@register
class BucketPolicy(Handler):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, name, props, account_id, region):
        bucket = props["Bucket"]
        _backend(account_id, region).put_bucket_policy(bucket, json.dumps(props["PolicyDocument"]).encode())
        return Resource(cls, bucket, {}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        if props["Bucket"] != original.physical_resource_id:
            cls.remove(original, account_id, region)
        return cls.create(name, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.physical_resource_id in backend.buckets:
            backend.delete_bucket_policy(resource.physical_resource_id)
