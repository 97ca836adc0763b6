"""Static frontends (docs/requirements.md#gcp-frontends): a bucket per app behind Cloud CDN."""

from __future__ import annotations

from constructs_lib.gcp import tf

# What the CDN and browsers cache: static builds carry content hashes in their
# asset names; index.html is revalidated through the default TTL.
DEFAULT_TTL = 3600
MAX_TTL = 86400


class StaticSite(tf.Construct):
    """One app's bucket and its CDN-enabled backend bucket, for :class:`HttpsEdge`.

    A backend bucket reads objects anonymously: Cloud CDN has no way to read
    a bucket whose public access prevention is enforced (short of signed
    URLs). So this is the one kind of bucket whose *objects* are readable by
    ``allUsers``, and only that: ``roles/storage.objectViewer`` (no listing,
    no writes), public access prevention ``inherited``. Everything else is as
    hardened as the data buckets: uniform access, versioning, CMEK with
    ``kms_key`` (the Cloud Storage agent's grant is ``key_grant``), usage logs
    to ``log_bucket``, ``force_destroy`` off. A build is published with
    ``bin/gcp-publish`` (rsync, then CDN invalidation).

    Frontend buckets are the one public-read exception
    (docs/requirements.md#gcp-frontends), config-gated per app; the stack
    refuses any other public bucket or role (``refuse_public_buckets``).

    Attributes: ``bucket``, ``public_read``, ``backend``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, name: str,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, key_grant: tf.TerraformResource,
                 log_bucket: str) -> None:
        super().__init__(scope, id_)
        sb = tf.storage_bucket
        self.bucket = sb.StorageBucket(
            self, "Bucket", project=project, location=location, name=name,
            uniform_bucket_level_access=True,
            public_access_prevention="inherited",
            versioning=sb.StorageBucketVersioning(enabled=True),
            encryption=sb.StorageBucketEncryption(default_kms_key_name=kms_key.id),
            website=sb.StorageBucketWebsite(main_page_suffix="index.html", not_found_page="index.html"),
            logging=sb.StorageBucketLogging(log_bucket=log_bucket, log_object_prefix=name),
            force_destroy=False,
            depends_on=[key_grant],
        )
        self.public_read = tf.storage_bucket_iam_member.StorageBucketIamMember(
            self, "PublicRead", bucket=self.bucket.name, role="roles/storage.objectViewer", member="allUsers",
        )
        bb = tf.compute_backend_bucket
        self.backend = bb.ComputeBackendBucket(
            self, "Backend", project=project, name=f"{name}-backend", bucket_name=self.bucket.name,
            enable_cdn=True, compression_mode="AUTOMATIC",
            cdn_policy=bb.ComputeBackendBucketCdnPolicy(
                cache_mode="CACHE_ALL_STATIC", default_ttl=DEFAULT_TTL, client_ttl=DEFAULT_TTL, max_ttl=MAX_TTL,
                serve_while_stale=DEFAULT_TTL, negative_caching=True, request_coalescing=True,
            ),
            depends_on=[self.public_read],
        )
