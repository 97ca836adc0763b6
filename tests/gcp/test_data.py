"""Data concern invariants, read from the synthesized Terraform JSON."""

from __future__ import annotations

import re

from envconfig.gcp import Environment, SqlAvailability

REQUIRED_SQL_FLAGS = {
    "log_connections": "on",
    "log_disconnections": "on",
    "log_checkpoints": "on",
    "log_lock_waits": "on",
    "log_min_duration_statement": "-1",
    "cloudsql.enable_pgaudit": "on",
}


def test_network_is_custom_mode_with_flow_logs_and_private_service_access(synth):
    network = synth.one("google_compute_network", "Data/Network/Network")
    assert network["auto_create_subnetworks"] is False
    subnet = synth.one("google_compute_subnetwork", "Data/Network/Subnet")
    assert subnet["ip_cidr_range"] == synth.config.network.subnet_cidr
    assert subnet["private_ip_google_access"] is True
    # Cost lever: one flow in ten, aggregated over 30 s (was every flow every 5 s).
    assert subnet["log_config"]["flow_sampling"] == 0.1
    assert subnet["log_config"]["aggregation_interval"] == "INTERVAL_30_SEC"
    assert subnet["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"
    psa = synth.one("google_compute_global_address", "Data/Network")
    assert psa["purpose"] == "VPC_PEERING" and psa["address_type"] == "INTERNAL"
    peering = synth.one("google_service_networking_connection", "Data/Network")
    assert peering["service"] == "servicenetworking.googleapis.com"
    assert peering["reserved_peering_ranges"] == [synth.ref("google_compute_global_address", "Data/Network", "name")]
    firewall = synth.one("google_compute_firewall", "Data/Network")
    assert firewall["direction"] == "INGRESS" and firewall["deny"] == [{"protocol": "all"}]
    assert firewall["source_ranges"] == ["0.0.0.0/0"] and "log_config" in firewall


def test_cloud_sql_is_postgres16_private_tls_backed_up_and_protected(synth):
    instance = synth.one("google_sql_database_instance", "Data/Postgres/Instance")
    settings = instance["settings"]
    assert instance["database_version"] == "POSTGRES_16"
    assert instance["deletion_protection"] is True
    assert settings["deletion_protection_enabled"] is True
    assert settings["retain_backups_on_delete"] is True
    ip = settings["ip_configuration"]
    assert ip["ipv4_enabled"] is False, "Cloud SQL must have no public IP"
    assert ip["private_network"] == synth.ref("google_compute_network", "Data/Network/Network")
    assert ip["ssl_mode"] == "ENCRYPTED_ONLY"
    assert "authorized_networks" not in ip
    backup = settings["backup_configuration"]
    assert backup["enabled"] is True and backup["point_in_time_recovery_enabled"] is True
    assert backup["backup_retention_settings"] == {"retained_backups": 7, "retention_unit": "COUNT"}
    assert backup["transaction_log_retention_days"] == synth.config.sql.transaction_log_days
    assert instance["encryption_key_name"] == synth.ref("google_kms_crypto_key", "Secrets/Kms/SqlKey")
    flags = {f["name"]: f["value"] for f in settings["database_flags"]}
    assert REQUIRED_SQL_FLAGS.items() <= flags.items()
    assert settings["tier"] == synth.config.sql.tier.value
    assert settings["availability_type"] == synth.config.sql.availability.value
    assert settings["insights_config"]["record_client_address"] is False  # no client IPs (PII) in insights


def test_production_database_is_regional(gcp_synth):
    instance = gcp_synth[Environment.PRODUCTION].one("google_sql_database_instance", "Data/Postgres/Instance")
    assert instance["settings"]["availability_type"] == SqlAvailability.REGIONAL.value


def test_database_and_user_survive_destroy_and_user_has_no_password_in_code(synth):
    database = synth.one("google_sql_database", "Data/Postgres")
    assert database["deletion_policy"] == "ABANDON" and database["name"] == synth.config.sql.database
    user = synth.one("google_sql_user", "Data/Postgres")
    assert user["deletion_policy"] == "ABANDON"
    # The generated local the DB_PG_PASSWORD secret also reads, through the write-only attribute: never a literal, never in state.
    assert re.fullmatch(r"\$\{local\.Secrets_DbPgPassword_Generated_[A-F0-9]+\}", user["password_wo"])
    assert "password" not in user


def test_cloud_sql_waits_for_its_key_grant_and_private_service_access(synth):
    instance = synth.one("google_sql_database_instance", "Data/Postgres/Instance")
    grant = synth.ref("google_kms_crypto_key_iam_member", "Data/Postgres/KeyGrant").strip("${}").rsplit(".", 1)[0]
    peering = synth.ref("google_service_networking_connection", "Data/Network").strip("${}").rsplit(".", 1)[0]
    assert {grant, peering} <= set(instance["depends_on"])
    key_grant = synth.one("google_kms_crypto_key_iam_member", "Data/Postgres/KeyGrant")
    assert key_grant["member"] == synth.ref("terraform_data", "ServiceAgents/CloudSql", "output.member")
    agent = synth.one("terraform_data", "ServiceAgents/CloudSql")
    assert agent["input"]["member"].endswith("@gcp-sa-cloud-sql.iam.gserviceaccount.com")


def test_redis_is_version7_with_auth_tls_private_and_cmek(synth):
    redis = synth.one("google_redis_instance", "Data/Redis")
    assert redis["redis_version"].startswith("REDIS_7")
    assert redis["auth_enabled"] is True
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert redis["connect_mode"] == "PRIVATE_SERVICE_ACCESS"
    assert redis["authorized_network"] == synth.ref("google_compute_network", "Data/Network/Network")
    assert redis["tier"] == synth.config.redis.tier.value
    assert redis["memory_size_gb"] == synth.config.redis.memory_size_gb
    assert redis["customer_managed_key"] == synth.ref("google_kms_crypto_key", "Secrets/Kms/RedisKey")
    assert redis["lifecycle"]["prevent_destroy"] is True


def test_firestore_is_native_with_pitr_delete_protection_and_cmek(synth):
    db = synth.one("google_firestore_database", "Data/Firestore")
    assert db["type"] == "FIRESTORE_NATIVE"
    assert db["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert db["delete_protection_state"] == "DELETE_PROTECTION_ENABLED"
    assert db["deletion_policy"] == "ABANDON"
    assert db["cmek_config"]["kms_key_name"] == synth.ref("google_kms_crypto_key", "Secrets/Kms/FirestoreKey")
    assert db["location_id"] == synth.config.region.value


def test_every_bucket_is_private_uniform_versioned_and_cmek(synth):
    # The data buckets; frontend buckets (public-read objects) are tests/gcp/test_frontends.py's.
    buckets = {n: b for n, b in synth.resources("google_storage_bucket").items() if "/Data/" in b["//"]["metadata"]["path"]}
    assert len(buckets) == 2
    storage_key = synth.ref("google_kms_crypto_key", "Secrets/Kms/StorageKey")
    for name, bucket in buckets.items():
        assert bucket["uniform_bucket_level_access"] is True, name
        assert bucket["public_access_prevention"] == "enforced", name
        assert bucket["versioning"] == {"enabled": True}, name
        assert bucket["encryption"] == {"default_kms_key_name": storage_key}, name
        assert bucket["force_destroy"] is False, name
        assert bucket["lifecycle"]["prevent_destroy"] is True, name


def test_assets_bucket_logs_access_to_its_log_bucket(synth):
    bucket = synth.one("google_storage_bucket", "Data/Assets/Bucket")
    assert bucket["logging"]["log_bucket"] == synth.ref("google_storage_bucket", "Data/Assets/AccessLogBucket", "name")
    assert bucket["name"].startswith(synth.config.project_id)


def test_no_public_bucket_grants(synth):
    """No data bucket is public (the CDN-served frontends: tests/gcp/test_frontends.py)."""
    for type_, name, body in synth.all_resources():
        if type_.startswith("google_storage_bucket_iam") and "/Frontend" not in body["//"]["metadata"]["path"]:
            assert body.get("member") not in ("allUsers", "allAuthenticatedUsers"), name


def test_access_log_bucket_lets_cloud_storage_deliver_usage_logs(synth):
    """Without this grant the logging config is accepted and no log is ever delivered."""
    grants = {n: g for n, g in synth.resources("google_storage_bucket_iam_member").items() if "/Data/" in g["//"]["metadata"]["path"]}
    assert len(grants) == 1
    (grant,) = grants.values()
    assert grant["bucket"] == synth.ref("google_storage_bucket", "Data/Assets/AccessLogBucket", "name")
    assert grant["role"] == "roles/storage.objectCreator"
    assert grant["member"] == "group:cloud-storage-analytics@google.com"
    bucket = synth.one("google_storage_bucket", "Data/Assets/Bucket")
    assert synth.ref("google_storage_bucket_iam_member", "Data/Assets/AccessLogWriter").strip("${}").rsplit(".", 1)[0] in bucket["depends_on"]
