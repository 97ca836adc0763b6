"""Secrets concern: the KMS key ring (one key per purpose) and the Secret Manager secrets."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import KeyRing, grant_encrypt_decrypt
from constructs_lib.gcp.secrets import Secret
from constructs_lib.gcp.service_agents import AgentService, ServiceAgents
from envconfig.gcp import GcpConfig

KEY_PURPOSES = ("storage", "sql", "redis", "firestore", "secrets", "artifacts")

# Contract variable -> secret suffix. The project owns BETTER_AUTH_SECRET and
# DB_PG_PASSWORD: their first versions are generated here (GENERATED); the
# KV_REDIS_* values are written by Terraform from the instance (stacks/gcp/data.py).
SECRETS = {
    "BETTER_AUTH_SECRET": "better-auth-secret",
    "DB_PG_PASSWORD": "db-pg-password",
    "KV_REDIS_URL": "kv-redis-url",
    "KV_REDIS_PASSWORD": "kv-redis-password",
}
# With LiveKit on (config), its key pair: both sides (the server and its
# clients) read the generated values from Secret Manager.
LIVEKIT_SECRETS = {
    "LIVEKIT_API_KEY": "livekit-api-key",
    "LIVEKIT_API_SECRET": "livekit-api-secret",
}
GENERATED = ("BETTER_AUTH_SECRET", "DB_PG_PASSWORD", *LIVEKIT_SECRETS)


class Secrets(tf.Construct):
    """Attributes: ``key_ring``, ``secret_manager_key_grant``, ``secrets`` (contract variable -> Secret)."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, agents: ServiceAgents) -> None:
        super().__init__(scope, id_)
        self.key_ring = KeyRing(
            self, "Kms", project=config.project_id, location=config.region.value, name=config.name("keys"), purposes=KEY_PURPOSES
        )
        self.secret_manager_key_grant = grant_encrypt_decrypt(
            self, "SecretManagerKeyGrant", key=self.key_ring.key("secrets"),
            member=agents.member(AgentService.SECRET_MANAGER),
        )
        self.secrets = {
            variable: Secret(
                self,
                suffix.title().replace("-", ""),
                project=config.project_id,
                location=config.region.value,
                secret_id=config.name(suffix),
                kms_key=self.key_ring.key("secrets"),
                key_grant=self.secret_manager_key_grant,
                deletion_protection=config.deletion_protection,
            )
            for variable, suffix in {**SECRETS, **(LIVEKIT_SECRETS if config.livekit else {})}.items()
        }
        for variable in GENERATED:
            if variable in self.secrets:
                self.secrets[variable].generate_value()
