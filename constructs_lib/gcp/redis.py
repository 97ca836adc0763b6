"""Memorystore for Redis 7 with AUTH and TLS."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import grant_encrypt_decrypt
from envconfig.gcp import RedisTier

REDIS_VERSION = "REDIS_7_2"  # newest Memorystore for Redis version (7.x is required)


class RedisCache(tf.Construct):
    """Memorystore Redis 7 on the private services range.

    Defaults and why: AUTH on (the app's ``KV_REDIS_PASSWORD`` must be
    non-empty); ``SERVER_AUTHENTICATION`` in-transit encryption
    (TLS on port 6378, hence ``rediss://``); ``PRIVATE_SERVICE_ACCESS`` on our
    VPC (no public endpoint exists for Memorystore); CMEK with ``kms_key``;
    RDB snapshots every 12 h on STANDARD_HA (Basic tier has no persistence);
    a Sunday maintenance window.

    Attributes: ``instance``, ``key_grant``; ``url`` is the ``rediss://``
    URL for the ``KV_REDIS_URL`` secret; ``server_ca_certs`` the PEM of its
    server CAs (``KV_REDIS_CA_CERT``).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, name: str, tier: RedisTier,
                 memory_size_gb: int, network_id: str,
                 private_service_connection: tf.service_networking_connection.ServiceNetworkingConnection,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, service_agent: str) -> None:
        super().__init__(scope, id_)
        r = tf.redis_instance
        self.key_grant = grant_encrypt_decrypt(self, "KeyGrant", key=kms_key, member=service_agent)
        persistence = (
            r.RedisInstancePersistenceConfig(persistence_mode="RDB", rdb_snapshot_period="TWELVE_HOURS")
            if tier is RedisTier.STANDARD_HA
            else None
        )
        self.instance = r.RedisInstance(
            self,
            "Instance",
            project=project,
            region=region,
            name=name,
            tier=tier.value,
            memory_size_gb=memory_size_gb,
            redis_version=REDIS_VERSION,
            auth_enabled=True,
            transit_encryption_mode="SERVER_AUTHENTICATION",
            connect_mode="PRIVATE_SERVICE_ACCESS",
            authorized_network=network_id,
            customer_managed_key=kms_key.id,
            persistence_config=persistence,
            maintenance_policy=r.RedisInstanceMaintenancePolicy(
                weekly_maintenance_window=[
                    r.RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow(
                        day="SUNDAY",
                        start_time=r.RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime(hours=4, minutes=0),
                    )
                ]
            ),
            depends_on=[private_service_connection, self.key_grant],
            lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.url = f"rediss://{self.instance.host}:{self.instance.port}"
        # Contract KV_REDIS_CA_CERT: every server CA certificate, concatenated.
        # google provider 6.50 google_redis_instance exports server_ca_certs (a
        # list); Memorystore "in-transit encryption" docs: during a CA rotation
        # clients must trust both the old and the new CA, so all are passed.
        # (A Terraform splat: cdktf has no typed accessor for "every element's field".)
        self.server_ca_certs = f'${{join("", {self.instance.fqn}.server_ca_certs[*].cert)}}'
