"""Data concern: network, Cloud SQL, Memorystore, Firestore, the GCS bucket."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.bucket import SecureBucket
from constructs_lib.gcp.firestore import FirestoreNative
from constructs_lib.gcp.kms import KeyRing
from constructs_lib.gcp.network import PrivateNetwork
from constructs_lib.gcp.redis import RedisCache
from constructs_lib.gcp.secrets import Secret
from constructs_lib.gcp.service_agents import AgentService, ServiceAgents
from constructs_lib.gcp.sql import PostgresDatabase
from envconfig.gcp import GcpConfig


class Data(tf.Construct):
    """Attributes: ``network``, ``sql``, ``redis``, ``firestore``, ``bucket``."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, agents: ServiceAgents, keys: KeyRing,
                 secrets: dict[str, Secret]) -> None:
        super().__init__(scope, id_)
        project, region = config.project_id, config.region.value
        self.network = PrivateNetwork(
            self, "Network", project=project, region=region, name=config.name("vpc"),
            subnet_cidr=config.network.subnet_cidr,
            private_service_prefix_length=config.network.private_service_prefix_length,
            flow_sampling=config.logging.flow_log_sampling,
        )
        self.sql = PostgresDatabase(
            self, "Postgres", project=project, region=region, name=config.name("pg"),
            tier=config.sql.tier, availability=config.sql.availability, disk_size_gb=config.sql.disk_size_gb,
            network_id=self.network.network.id,
            private_service_connection=self.network.private_service_connection,
            kms_key=keys.key("sql"), service_agent=agents.member(AgentService.CLOUD_SQL),
            database=config.sql.database, user=config.sql.user,
            backups_retained=config.sql.backups_retained, transaction_log_days=config.sql.transaction_log_days,
            deletion_protection=config.deletion_protection,
            max_connections=config.sql.max_connections,
            # Same value on both sides from the first apply (generated in stacks/gcp/secrets.py).
            password=secrets["DB_PG_PASSWORD"].generated_value,
        )
        self.redis = RedisCache(
            self, "Redis", project=project, region=region, name=config.name("redis"),
            tier=config.redis.tier, memory_size_gb=config.redis.memory_size_gb,
            network_id=self.network.network.id,
            private_service_connection=self.network.private_service_connection,
            kms_key=keys.key("redis"), service_agent=agents.member(AgentService.REDIS),
        )
        # Values only Terraform knows go into their secrets by reference.
        secrets["KV_REDIS_URL"].set_value_from(self.redis.url)
        secrets["KV_REDIS_PASSWORD"].set_value_from(self.redis.instance.auth_string)
        self.firestore = FirestoreNative(
            self, "Firestore", project=project, location=region, name=config.name("firestore"),
            kms_key=keys.key("firestore"), service_agent=agents.member(AgentService.FIRESTORE),
            backup_days=config.recovery.firestore_backup_days,
        )
        self.bucket = SecureBucket(
            self, "Assets", project=project, location=region.upper(), name=f"{project}-assets",  # bucket names are global; project ids are unique
            kms_key=keys.key("storage"), service_agent=agents.member(None),
        )
