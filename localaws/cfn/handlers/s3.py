"""S3: the bucket settings moto's ``AWS::S3::Bucket`` model ignores
(versioning, public access block, lifecycle, access logging, ownership
controls, the bucket key of the default encryption, Object Lock) and ``AWS::S3::BucketPolicy``, which moto does not handle."""
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
    if bucket.object_lock_enabled and versioning != "Enabled":
        raise ValueError(f"InvalidBucketState: versioning cannot be suspended on bucket {bucket.name}: Object Lock is enabled")
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
    apply_object_lock(bucket, props)


def apply_object_lock(bucket: FakeBucket, props: dict[str, Any]) -> None:
    """``ObjectLockEnabled`` / ``ObjectLockConfiguration``, as S3 applies them.

    S3 enables Object Lock on a new or an existing versioned bucket, in place
    (CloudFormation does not replace the bucket), and never disables it
    again. moto's PutObjectLockConfiguration still refuses buckets that hold
    objects (S3's rule before 2023), so the settings are written to moto's
    bucket model directly; moto then enforces the default retention on every
    new object version itself.
    """
    config = props.get("ObjectLockConfiguration") or {}
    wanted = as_bool(props.get("ObjectLockEnabled")) or config.get("ObjectLockEnabled") == "Enabled"
    if not wanted:
        if bucket.object_lock_enabled:
            raise ValueError(f"InvalidBucketState: Object Lock cannot be disabled on bucket {bucket.name} once it is enabled")
        return
    if bucket.versioning_status != "Enabled":
        raise ValueError("InvalidBucketState: Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    if retention and ("Mode" not in retention or ("Days" in retention) == ("Years" in retention)):
        raise ValueError("MalformedXML: DefaultRetention needs a Mode and either Days or Years")
    bucket.object_lock_enabled = True
    bucket.default_lock_mode = retention.get("Mode", "")
    bucket.default_lock_days = int(retention.get("Days", 0))
    bucket.default_lock_years = int(retention.get("Years", 0))


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
