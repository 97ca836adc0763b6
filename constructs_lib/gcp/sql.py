"""Cloud SQL for PostgreSQL 16 with private IP only."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import grant_encrypt_decrypt
from envconfig.gcp import SqlAvailability, SqlTier

# Logging flags CIS GCP 6.2 asks for (checkov CKV_GCP_51..57, 108-111): who
# connected, statement durations and errors, lock waits, temp files; pgaudit on.
# Statement text is not logged (log_statement "ddl" only): no PII in logs (docs/requirements.md#audit-trail).
LOGGING_FLAGS: dict[str, str] = {
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    # log_duration off: "on" writes one line per statement (every query of
    # every service), the largest share of Cloud Logging volume for no signal
    # that Query Insights does not already give per query shape (cost:
    # docs/requirements.md#cost). No checkov/CIS check asks for it.
    "log_duration": "off",
    "log_lock_waits": "on",
    "log_hostname": "on",
    "log_min_messages": "error",
    "log_min_error_statement": "error",
    "log_temp_files": "0",
    "log_min_duration_statement": "-1",
    "log_statement": "ddl",
    "cloudsql.enable_pgaudit": "on",
    # Without pgaudit.log the extension audits nothing. Cloud SQL docs, "Use
    # pgAudit" (https://cloud.google.com/sql/docs/postgres/pg-audit): set the
    # flag, then CREATE EXTENSION pgaudit in the database (the migrations job
    # does, docs/gcp.md). "ddl" and "role": schema and privilege changes, who
    # made them; no "read"/"write" (statement text with user data: no PII).
    "pgaudit.log": "ddl,role",
}


class PostgresDatabase(tf.Construct):
    """PostgreSQL 16 instance, one database and one built-in user.

    Defaults and why (docs/requirements.md#encryption, #audit-trail):
    - ``POSTGRES_16``: pgvector is part of Cloud SQL's PostgreSQL 16 image, so
      the migrations job can ``CREATE EXTENSION vector`` without a flag;
    - private IP only (``ipv4_enabled = false``) on the given VPC, and
      ``ssl_mode = ENCRYPTED_ONLY``: every connection is TLS;
    - daily backups at 03:00 UTC kept ``backups_retained`` (>= 7) times,
      point-in-time recovery with ``transaction_log_days`` of WAL;
    - CMEK with ``kms_key`` (the Cloud SQL service agent is granted here, and
      the instance waits for the grant);
    - deletion protection both in Terraform and in the Cloud SQL API
      (``deletion_protection_enabled``), backups kept after deletion, and the
      database and user are ABANDONed rather than dropped on destroy;
    - Query Insights without client addresses, and the logging flags above.

    The user's password is set through the write-only ``password_wo`` from
    the Terraform local that also feeds the ``DB_PG_PASSWORD`` secret's
    first version (never a literal), so the user and the secret hold the same
    value from the first apply on, and neither the plan nor the state holds
    it. ``password_wo_version`` is 1: Terraform sends it again only when that
    changes; rotation sets both sides out of band (docs/gcp.md).

    ``max_connections`` is set as the ``max_connections`` flag (the loader
    fits the services' pools in it, docs/requirements.md#gcp-connections);
    None keeps the tier's default.

    Attributes: ``instance``, ``database``, ``user``, ``key_grant``,
    ``server_ca_cert`` (PEM, for the ``DB_PG_CA_CERT`` contract variable).
    """

    @staticmethod
    def flags(max_connections: int | None) -> dict[str, str]:
        flags = dict(LOGGING_FLAGS)
        if max_connections is not None:
            flags["max_connections"] = str(max_connections)
        return flags

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, name: str,
                 tier: SqlTier, availability: SqlAvailability, disk_size_gb: int, network_id: str,
                 private_service_connection: tf.service_networking_connection.ServiceNetworkingConnection,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, service_agent: str, database: str, user: str,
                 backups_retained: int = 7, transaction_log_days: int = 7,
                 deletion_protection: bool = True, password: str | None = None, max_connections: int | None = None) -> None:
        super().__init__(scope, id_)
        sql = tf.sql_database_instance
        self.key_grant = grant_encrypt_decrypt(self, "KeyGrant", key=kms_key, member=service_agent)
        self.instance = sql.SqlDatabaseInstance(
            self,
            "Instance",
            project=project,
            region=region,
            name=name,
            database_version="POSTGRES_16",
            encryption_key_name=kms_key.id,
            deletion_protection=deletion_protection,
            depends_on=[private_service_connection, self.key_grant],
            settings=sql.SqlDatabaseInstanceSettings(
                tier=tier.value,
                # Shared-core tiers only exist in the Enterprise edition.
                edition="ENTERPRISE",
                availability_type=availability.value,
                disk_size=disk_size_gb,
                disk_type="PD_SSD",
                disk_autoresize=True,
                deletion_protection_enabled=deletion_protection,
                retain_backups_on_delete=True,
                ip_configuration=sql.SqlDatabaseInstanceSettingsIpConfiguration(
                    ipv4_enabled=False,
                    private_network=network_id,
                    ssl_mode="ENCRYPTED_ONLY",
                    enable_private_path_for_google_cloud_services=True,
                ),
                backup_configuration=sql.SqlDatabaseInstanceSettingsBackupConfiguration(
                    enabled=True,
                    start_time="03:00",
                    point_in_time_recovery_enabled=True,
                    transaction_log_retention_days=transaction_log_days,
                    backup_retention_settings=sql.SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings(
                        retained_backups=backups_retained, retention_unit="COUNT"
                    ),
                ),
                insights_config=sql.SqlDatabaseInstanceSettingsInsightsConfig(
                    query_insights_enabled=True, record_client_address=False, record_application_tags=True
                ),
                maintenance_window=sql.SqlDatabaseInstanceSettingsMaintenanceWindow(day=7, hour=4, update_track="stable"),
                database_flags=[
                    sql.SqlDatabaseInstanceSettingsDatabaseFlags(name=k, value=v) for k, v in self.flags(max_connections).items()
                ],
            ),
        )
        # The server CA the apps verify against (contract DB_PG_CA_CERT). google
        # provider 6.50 google_sql_database_instance exports server_ca_cert
        # (cert, expiration_time, sha1_fingerprint): the instance's current CA.
        self.server_ca_cert = self.instance.server_ca_cert.get(0).cert
        self.database = tf.sql_database.SqlDatabase(
            self, "Database", project=project, instance=self.instance.name, name=database, deletion_policy="ABANDON"
        )
        self.user = tf.sql_user.SqlUser(
            self,
            "User",
            project=project,
            instance=self.instance.name,
            name=user,
            type="BUILT_IN",
            password_wo=password,
            password_wo_version=1 if password is not None else None,
            deletion_policy="ABANDON",
        )
