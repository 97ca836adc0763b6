"""S3 bucket with every invariant on (docs/requirements.md#tables, #encryption), and its server-access-log bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Validations, Acknowledgment
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.aws._props import merge_props

_LOCKED_DOWN = {
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
    "versioned": True,
    "removal_policy": RemovalPolicy.RETAIN,
    "auto_delete_objects": False,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
}


def retain_policy(bucket: s3.Bucket) -> None:
    """Keep the bucket policy when the bucket is kept: ``cdk destroy`` would
    otherwise delete it and leave a retained bucket without its TLS-only deny
    (docs/requirements.md#retention). ``bucket.policy`` exists once ``enforce_ssl`` added its statement."""
    if bucket.policy is not None:
        bucket.policy.apply_removal_policy(RemovalPolicy.RETAIN)


class AccessLogBucket(Construct):
    """Destination of S3 server access logs.

    Same lock-down as :class:`HardenedBucket`, with two differences that AWS
    imposes: encryption is SSE-S3 (log delivery cannot write to SSE-KMS
    buckets: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html),
    and it does not log its own access (that would log forever).
    """

    def __init__(self, scope: Construct, id_: str, *, log_retention: Duration) -> None:
        super().__init__(scope, id_)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireLogs", expiration=log_retention, noncurrent_version_expiration=Duration.days(1)),
            ],
            **_LOCKED_DOWN,
        )
        retain_policy(self.bucket)
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This bucket is the server-access-log destination; logging its own access would write logs about logs without end.",
            ),
            # Control Tower's view of the same bucket: each control below asks
            # for something a server-access-log destination cannot have.
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_bucket_logging_enabled_check",
                reason="CT.S3.PR.2: this bucket is the server-access-log destination; logging its own access would write logs about logs without end.",
            ),
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check",
                reason="CT.S3.PR.10: S3 server access log delivery writes only to SSE-S3 buckets, never SSE-KMS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).",
            ),
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check",
                reason="CT.S3.PR.9: S3 refuses Object Lock buckets as server-access-log destinations (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).",
            ),
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_event_notifications_enabled_check",
                reason="CT.S3.PR.4: only S3 log delivery writes here and nothing consumes per-object events; the logs are read when an incident needs them.",
            ),
        )


class HardenedBucket(Construct):
    """A versioned, KMS-encrypted, private, TLS-only bucket with access logs.

    Defaults (caller ``bucket_props`` may change them):
      * lifecycle: noncurrent versions expire after ``noncurrent_version_expiration``,
        incomplete multipart uploads after 7 days.
    Required (cannot be overridden):
      * ``encryption`` KMS with ``encryption_key`` and S3 bucket keys;
      * all four public-access blocks, bucket-owner-enforced ownership (no ACLs);
      * a bucket policy denying any request not over TLS (``enforce_ssl``), TLS 1.2 minimum;
      * versioning; RETAIN (bucket and policy) and no auto-delete in every environment;
      * server access logs to ``access_logs_bucket`` (a new :class:`AccessLogBucket`
        when none is given), prefix ``<id>/``.
    Optional:
      * ``object_lock``: S3 Object Lock with this default retention for every
        new object (write once, read many). Once on, S3 never turns it off
        again, and it can be switched on for an existing, versioned bucket
        in place (CloudFormation updates ``ObjectLockEnabled`` without
        replacement; objects already stored are not locked retroactively).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        noncurrent_version_expiration: Duration,
        access_logs_bucket: s3.IBucket | None = None,
        object_lock: s3.ObjectLockRetention | None = None,
        bucket_props: s3.BucketProps | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if access_logs_bucket is None:
            self.access_logs = AccessLogBucket(self, "AccessLogs", log_retention=Duration.days(365))
            access_logs_bucket = self.access_logs.bucket
        self.access_logs_bucket = access_logs_bucket
        props = merge_props(
            "HardenedBucket",
            {
                "lifecycle_rules": [
                    s3.LifecycleRule(
                        id="NoncurrentVersions",
                        noncurrent_version_expiration=noncurrent_version_expiration,
                        abort_incomplete_multipart_upload_after=Duration.days(7),
                    )
                ]
            },
            bucket_props,
            {
                **_LOCKED_DOWN,
                "encryption": s3.BucketEncryption.KMS,
                "encryption_key": encryption_key,
                "bucket_key_enabled": True,
                "server_access_logs_bucket": access_logs_bucket,
                "server_access_logs_prefix": f"{id_}/",
                **({"object_lock_enabled": True, "object_lock_default_retention": object_lock} if object_lock else {}),
            },
        )
        self.bucket = s3.Bucket(self, "Bucket", **props)
        retain_policy(self.bucket)
        self.encryption_key = encryption_key
