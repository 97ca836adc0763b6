"""The only module that imports cdktf and the prebuilt Google provider.

HashiCorp archived CDK for Terraform on 2025-12-10; ``cdktf`` 0.21.0 and
``cdktf-cdktf-provider-google`` 16.12.1 (google provider 6.50.0) are the last
releases. Everything else in the repository imports these names from here
(``from constructs_lib.gcp import tf``), so moving to the maintained fork
(CDK Terrain, ``cdktn``) is a change to the import lines of this file only.
``tests/gcp/test_tf_facade.py`` greps the repository to keep it that way.

Importing any provider submodule loads all ~1,470 of them through jsii
(8-18 s on this machine): import this module once per process.
"""

from __future__ import annotations

from constructs import Construct
from cdktf import (
    App,
    DataResource,
    Fn,
    GcsBackend,
    LocalBackend,
    LocalExecProvisioner,
    TerraformOutput,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformStack,
    Testing,
    Token,
)
from cdktf_cdktf_provider_google import (
    artifact_registry_repository,
    billing_budget,
    cloud_run_v2_job,
    cloud_run_v2_service,
    cloud_run_v2_service_iam_member,
    compute_firewall,
    compute_global_address,
    compute_network,
    compute_subnetwork,
    data_google_project,
    data_google_storage_project_service_account,
    firestore_database,
    iam_workload_identity_pool,
    iam_workload_identity_pool_provider,
    kms_crypto_key,
    kms_crypto_key_iam_member,
    kms_key_ring,
    logging_project_bucket_config,
    monitoring_alert_policy,
    monitoring_custom_service,
    monitoring_dashboard,
    monitoring_notification_channel,
    monitoring_slo,
    monitoring_uptime_check_config,
    project_iam_audit_config,
    project_iam_custom_role,
    project_iam_member,
    project_service,
    provider,
    redis_instance,
    secret_manager_secret,
    secret_manager_secret_iam_member,
    secret_manager_secret_version,
    service_account,
    service_account_iam_member,
    service_networking_connection,
    sql_database,
    sql_database_instance,
    sql_user,
    storage_bucket,
    storage_bucket_iam_member,
)

# The provider version the prebuilt bindings were generated from (for docs/tests).
GOOGLE_PROVIDER_VERSION = "6.50.0"

__all__ = [
    "App",
    "Construct",
    "DataResource",
    "Fn",
    "GOOGLE_PROVIDER_VERSION",
    "GcsBackend",
    "LocalBackend",
    "LocalExecProvisioner",
    "TerraformOutput",
    "TerraformResource",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "Testing",
    "Token",
    "artifact_registry_repository",
    "billing_budget",
    "cloud_run_v2_job",
    "cloud_run_v2_service",
    "cloud_run_v2_service_iam_member",
    "compute_firewall",
    "compute_global_address",
    "compute_network",
    "compute_subnetwork",
    "data_google_project",
    "data_google_storage_project_service_account",
    "firestore_database",
    "iam_workload_identity_pool",
    "iam_workload_identity_pool_provider",
    "kms_crypto_key",
    "kms_crypto_key_iam_member",
    "kms_key_ring",
    "logging_project_bucket_config",
    "monitoring_alert_policy",
    "monitoring_custom_service",
    "monitoring_dashboard",
    "monitoring_notification_channel",
    "monitoring_slo",
    "monitoring_uptime_check_config",
    "project_iam_audit_config",
    "project_iam_custom_role",
    "project_iam_member",
    "project_service",
    "provider",
    "redis_instance",
    "secret_manager_secret",
    "secret_manager_secret_iam_member",
    "secret_manager_secret_version",
    "service_account",
    "service_account_iam_member",
    "service_networking_connection",
    "sql_database",
    "sql_database_instance",
    "sql_user",
    "storage_bucket",
    "storage_bucket_iam_member",
]
