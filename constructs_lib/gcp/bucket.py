"""Cloud Storage buckets that cannot be made public."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import grant_encrypt_decrypt

ACCESS_LOG_RETENTION_DAYS = 365
# Cloud Storage delivers usage logs as this group; without objectCreator on
# the log bucket, logging is configured but no log is ever written
# (https://cloud.google.com/storage/docs/access-logs#delivery).
ACCESS_LOG_WRITER = "group:cloud-storage-analytics@google.com"


def _hardened_bucket(scope: tf.Construct, id_: str, *, project: str, location: str, name: str,
                     kms_key: tf.kms_crypto_key.KmsCryptoKey, depends_on: list,
                     logging: tf.storage_bucket.StorageBucketLogging | None,
                     lifecycle_rule: list | None = None) -> tf.storage_bucket.StorageBucket:
    sb = tf.storage_bucket
    return sb.StorageBucket(
        scope,
        id_,
        project=project,
        location=location,
        name=name,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=sb.StorageBucketVersioning(enabled=True),
        encryption=sb.StorageBucketEncryption(default_kms_key_name=kms_key.id),
        # Deleted objects stay recoverable for 30 days on top of versioning.
        soft_delete_policy=sb.StorageBucketSoftDeletePolicy(retention_duration_seconds=30 * 24 * 3600),
        force_destroy=False,
        logging=logging,
        lifecycle_rule=lifecycle_rule,
        depends_on=depends_on,
        lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True),
    )


class SecureBucket(tf.Construct):
    """A bucket and the bucket that receives its access logs.

    Defaults and why: uniform bucket-level access (no object ACLs); public
    access prevention ``enforced`` (an ``allUsers`` grant is refused by the
    API); versioning plus 30-day soft delete; CMEK with ``kms_key`` (the
    Cloud Storage service agent is granted here and both buckets wait for
    it); ``force_destroy`` off and ``prevent_destroy`` on; usage logs written
    to a sibling ``<name>-access-logs`` bucket with the same hardening whose
    objects expire after a year.

    The log bucket does not log its own access (that would log the log
    writes, recursively); that is the one reasoned checkov skip (CKV_GCP_62)
    in ``policy/checkov_skips.yaml``.

    Cloud Storage's analytics group may create objects in the log bucket
    (``ACCESS_LOG_WRITER``; nothing else, it cannot read them).

    Attributes: ``bucket``, ``access_log_bucket``, ``key_grant``, ``access_log_writer``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, name: str,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, service_agent: str) -> None:
        super().__init__(scope, id_)
        sb = tf.storage_bucket
        self.key_grant = grant_encrypt_decrypt(self, "KeyGrant", key=kms_key, member=service_agent)
        self.access_log_bucket = _hardened_bucket(
            self,
            "AccessLogBucket",
            project=project,
            location=location,
            name=f"{name}-access-logs",
            kms_key=kms_key,
            depends_on=[self.key_grant],
            logging=None,
            lifecycle_rule=[
                sb.StorageBucketLifecycleRule(
                    action=sb.StorageBucketLifecycleRuleAction(type="Delete"),
                    condition=sb.StorageBucketLifecycleRuleCondition(age=ACCESS_LOG_RETENTION_DAYS),
                )
            ],
        )
        self.access_log_writer = tf.storage_bucket_iam_member.StorageBucketIamMember(
            self, "AccessLogWriter", bucket=self.access_log_bucket.name, role="roles/storage.objectCreator",
            member=ACCESS_LOG_WRITER,
        )
        self.bucket = _hardened_bucket(
            self,
            "Bucket",
            project=project,
            location=location,
            name=name,
            kms_key=kms_key,
            depends_on=[self.key_grant, self.access_log_writer],
            logging=sb.StorageBucketLogging(log_bucket=self.access_log_bucket.name, log_object_prefix=name),
        )
