"""Stack-level invariants: backend, provider, APIs, stable addresses, outputs."""

from __future__ import annotations

import pytest

from constructs_lib.gcp.apis import PLATFORM_APIS
from envconfig.gcp import Environment
from opscli.gcp_rollout import plan, probe_digests

# Terraform addresses of every stateful resource. cdktf derives them from the
# construct path; a rename would make Terraform destroy and recreate the
# database, keys or secrets. An intended move goes through a `moved` block
# (or `terraform state mv`) and then this inventory changes in the same PR.
STATEFUL_ADDRESSES = {
    "google_sql_database_instance": ["Data_Postgres_Instance_13686EA5"],
    "google_sql_database": ["Data_Postgres_Database_48E96174"],
    "google_sql_user": ["Data_Postgres_User_7137245C"],
    "google_redis_instance": ["Data_Redis_Instance_CD27A1AD"],
    "google_firestore_database": ["Data_Firestore_Database_79CA83DA"],
    "google_storage_bucket": ["Data_Assets_AccessLogBucket_39AFA56B", "Data_Assets_Bucket_E8C7E1F8"],
    "google_kms_key_ring": ["Secrets_Kms_KeyRing_B87BC7B9"],
    "google_kms_crypto_key": [
        "Secrets_Kms_ArtifactsKey_871E52CB",
        "Secrets_Kms_FirestoreKey_20A6C698",
        "Secrets_Kms_RedisKey_7DD62B3F",
        "Secrets_Kms_SecretsKey_DF60130C",
        "Secrets_Kms_SqlKey_C01907BA",
        "Secrets_Kms_StorageKey_7CB60850",
    ],
    "google_secret_manager_secret": [
        "Secrets_BetterAuthSecret_60DBB828",
        "Secrets_DbPgPassword_Secret_1B24B680",
        "Secrets_KvRedisPassword_Secret_620CC976",
        "Secrets_KvRedisUrl_Secret_3F128D58",
    ],
    "google_iam_workload_identity_pool": ["Oidc_Github_Pool_A46B9391"],
    "google_compute_network": ["Data_Network_E4B77CC2"],
    "google_artifact_registry_repository": ["Images_Repository_F33344CE"],
}


# Config-gated stateful resources (LiveKit: staging only today).
LIVEKIT_ADDRESSES = {
    "google_secret_manager_secret": ["Secrets_LivekitApiKey_Secret_DEF7D19C", "Secrets_LivekitApiSecret_D6A3F7F8"],
    # The internal address went with ws:// signalling: the agent uses wss://<livekit domain>.
    "google_compute_address": ["Media_Livekit_ExternalAddress_90A8C646"],
}


# Config-gated frontend buckets (staging: all four).
FRONTEND_BUCKETS = ["FrontendDashboard_Bucket_EDC6CE25", "FrontendLanding_Bucket_55B4082E", "FrontendMeeting_Bucket_1583A629",
                    "FrontendWidget_Bucket_25B42531"]


@pytest.mark.parametrize("type_", sorted(set(STATEFUL_ADDRESSES) | set(LIVEKIT_ADDRESSES)))
def test_stateful_addresses_are_stable(synth, type_):
    expected = STATEFUL_ADDRESSES.get(type_, []) + (LIVEKIT_ADDRESSES.get(type_, []) if synth.config.livekit else [])
    if type_ == "google_storage_bucket" and synth.config.frontends:
        expected += [n for n in FRONTEND_BUCKETS if any(n.startswith(f"Frontend{f.name.title()}_") for f in synth.config.frontends)]
    assert sorted(synth.resources(type_)) == sorted(expected)


def test_gcs_backend_from_config(synth):
    assert synth.doc["terraform"]["backend"] == {"gcs": {"bucket": synth.config.backend.bucket, "prefix": synth.config.backend.prefix}}


def test_provider_is_pinned_and_bills_the_project(synth):
    assert synth.doc["terraform"]["required_providers"]["google"]["version"] == "6.50.0"
    provider = synth.doc["provider"]["google"][0]
    assert provider["project"] == synth.config.project_id and provider["region"] == synth.config.region.value
    assert provider["user_project_override"] is True and provider["billing_project"] == synth.config.project_id
    assert provider["default_labels"]["environment"] == synth.config.environment.value


def test_apis_enabled_never_disabled_and_awaited_by_every_resource(synth):
    apis = synth.resources("google_project_service")
    assert sorted(a["service"] for a in apis.values()) == sorted(PLATFORM_APIS)
    assert all(a["disable_on_destroy"] is False for a in apis.values())
    api_addresses = {f"google_project_service.{name}" for name in apis}
    for type_, name, body in synth.all_resources():
        if type_ != "google_project_service":
            assert api_addresses <= set(body.get("depends_on", [])), f"{type_}.{name}"


def test_deletion_protection_everywhere_in_production(gcp_synth):
    synth = gcp_synth[Environment.PRODUCTION]
    for type_, name, body in synth.all_resources():
        if "deletion_protection" in body:
            assert body["deletion_protection"] is True, f"{type_}.{name}"
    assert synth.config.deletion_protection is True


def test_outputs_for_the_deploy_workflow(synth):
    assert {"ApiUrl", "WebsocketUrl", "AgentUrl", "MigrationsJob", "WorkloadIdentityProvider", "DeployServiceAccount"} <= set(synth.doc["output"])


def test_rollout_targets_the_synthesized_job_and_services(synth):
    names = {b["name"] for b in synth.resources("google_cloud_run_v2_service").values()}
    job = synth.one("google_cloud_run_v2_job", "Runtime/Migrations")["name"]
    steps = plan(synth.config, probe_digests())
    instance = synth.one("google_sql_database_instance", "Data/Postgres/Instance")["name"]
    assert steps[0].argv[1:6] == ("sql", "backups", "create", "--instance", instance)
    assert steps[1].argv[4] == job and steps[2].argv[4] == job
    assert {s.argv[4] for s in steps[3:]} == names
    for step in steps:
        assert step.argv[step.argv.index("--project") + 1] == synth.config.project_id


def test_local_backend_switch(tmp_path):
    from constructs_lib.gcp import tf
    from envconfig.gcp import load_environment
    from stacks.gcp.platform import GcpPlatformStack

    app = tf.Testing.app()
    stack = GcpPlatformStack(app, config=load_environment("staging"), local_backend=True)
    import json

    doc = json.loads(tf.Testing.synth(stack))
    assert doc["terraform"]["backend"] == {"local": {"path": "terraform.gcp-staging.tfstate"}}


def test_local_backend_env_var(monkeypatch):
    import gcp_app
    from envconfig.errors import ConfigError

    assert gcp_app.local_backend_requested({}) is False
    assert gcp_app.local_backend_requested({"GCP_TF_BACKEND": "local"}) is True
    with pytest.raises(ConfigError, match="GCP_TF_BACKEND: <environment variable>: must be 'gcs' or 'local', got 's3'"):
        gcp_app.local_backend_requested({"GCP_TF_BACKEND": "s3"})
