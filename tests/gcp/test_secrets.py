"""Secrets concern: KMS rotation, Secret Manager without values, narrow access."""

from __future__ import annotations

import json
import re

from constructs_lib.gcp.service_agents import AgentService
from stacks.gcp.secrets import KEY_PURPOSES, LIVEKIT_SECRETS, SECRETS

MAX_ROTATION_SECONDS = 90 * 24 * 3600
# The agents' documented domains (each product's CMEK page).
EXPECTED_AGENT_DOMAINS = {
    AgentService.CLOUD_SQL: "gcp-sa-cloud-sql.iam.gserviceaccount.com",
    AgentService.REDIS: "cloud-redis.iam.gserviceaccount.com",
    AgentService.FIRESTORE: "gcp-sa-firestore.iam.gserviceaccount.com",
    AgentService.SECRET_MANAGER: "gcp-sa-secretmanager.iam.gserviceaccount.com",
    AgentService.ARTIFACT_REGISTRY: "gcp-sa-artifactregistry.iam.gserviceaccount.com",
}


def test_every_kms_key_rotates_within_90_days_and_is_never_destroyed(synth):
    keys = synth.resources("google_kms_crypto_key")
    assert {k["name"] for k in keys.values()} == set(KEY_PURPOSES)
    for name, key in keys.items():
        seconds = int(key["rotation_period"].rstrip("s"))
        assert 0 < seconds <= MAX_ROTATION_SECONDS, name
        assert key["lifecycle"]["prevent_destroy"] is True, name
        assert key["purpose"] == "ENCRYPT_DECRYPT"
    ring = synth.one("google_kms_key_ring", "Secrets/Kms")
    assert ring["location"] == synth.config.region.value


def test_key_grants_go_only_to_google_service_agents(synth):
    # The member is a reference to the agent the stack created (tests/gcp/test_first_apply.py);
    # what that agent is comes from the documented per-product formats.
    agents = {synth.ref("terraform_data", f"ServiceAgents/{s.name.title().replace('_', '')}", "output.member"): s for s in AgentService}
    storage = "${data.google_storage_project_service_account." + next(iter(synth.doc["data"]["google_storage_project_service_account"])) + ".member}"
    grants = synth.resources("google_kms_crypto_key_iam_member")
    assert len(grants) == 6
    for name, grant in grants.items():
        assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter", name
        assert grant["member"] in agents or grant["member"] == storage, name
    for ref, service in agents.items():
        body = synth.resources("terraform_data")[ref.split(".")[1]]
        assert body["input"]["member"] == "serviceAccount:service-${data.google_project.Project.number}@" + EXPECTED_AGENT_DOMAINS[service]


def test_secrets_are_regional_cmek_and_protected(synth):
    secrets = synth.resources("google_secret_manager_secret")
    expected = {**SECRETS, **(LIVEKIT_SECRETS if synth.config.livekit else {})}
    assert {s["secret_id"] for s in secrets.values()} == {synth.config.name(s) for s in expected.values()}
    key = synth.ref("google_kms_crypto_key", "Secrets/Kms/SecretsKey")
    for name, secret in secrets.items():
        replicas = secret["replication"]["user_managed"]["replicas"]
        assert replicas == [{"location": synth.config.region.value, "customer_managed_encryption": {"kms_key_name": key}}], name
        assert secret["deletion_protection"] is True, name


def test_no_secret_value_is_written_in_the_synthesized_file(synth):
    versions = synth.resources("google_secret_manager_secret_version")
    # The two values Terraform itself learns from the Redis instance, and the
    # two it generates (expressions, never literals: tests/gcp/test_first_apply.py).
    # (six with LiveKit: its key pair is generated too)
    assert len(versions) == (6 if synth.config.livekit else 4)
    generated = synth.doc.get("locals", {})
    for name, version in versions.items():
        data = version["secret_data_wo"]
        if data.startswith("${local."):
            assert "uuid()" in generated[data[len("${local."):-1]], (name, data)
            continue
        assert re.fullmatch(r"(rediss://)?\$\{google_redis_instance\.[A-Za-z0-9_]+\.(host|auth_string)\}(:\$\{google_redis_instance\.[A-Za-z0-9_]+\.port\})?",
                            data), (name, data)
    text = synth.path.read_text()
    # The one password field is the write-only one, fed from the generated local.
    assert re.findall(r'"password(?:_wo)?": "([^"]*)"', text) == [
        "${local." + next(k for k in generated if k.startswith("Secrets_DbPgPassword_")) + "}"
    ]
    for forbidden in ('"root_password"', '"auth_string":', "BEGIN PRIVATE KEY", '"private_key"'):
        assert forbidden not in text, forbidden
    assert not synth.resources("google_service_account_key"), "no service account keys, ever"


# Attributes whose value Terraform keeps in plans and state; write-only
# twins (secret_data_wo, password_wo) keep none (docs/requirements.md#gcp-secrets).
STATE_KEPT_SECRET_ATTRIBUTES = ("secret_data", "password", "root_password", "auth_string", "private_key", "sensitive_labels")


def test_no_resource_sets_a_secret_attribute_that_state_keeps(synth):
    found = [(rtype, name, attr) for rtype, resources in synth.doc["resource"].items() for name, r in resources.items()
             for attr in STATE_KEPT_SECRET_ATTRIBUTES if attr in r]
    assert found == []
    versions = synth.resources("google_secret_manager_secret_version").values()
    assert {v["secret_data_wo_version"] for v in versions} == {1}
    (user,) = synth.resources("google_sql_user").values()
    assert user["password_wo_version"] == 1 and "lifecycle" not in user


def test_secret_access_is_per_service_account_only(synth):
    bindings = synth.resources("google_secret_manager_secret_iam_member")
    runtime_accounts = {
        f"serviceAccount:{synth.ref('google_service_account', path + '/Identity/ServiceAccount', 'email')}"
        for path in ("Runtime/Api", "Runtime/Websocket", "Runtime/Agent", "Runtime/Migrations")
    }
    if synth.config.livekit:
        runtime_accounts.add(f"serviceAccount:{synth.ref('google_service_account', 'Media/Livekit/ServiceAccount', 'email')}")
    for name, binding in bindings.items():
        assert binding["role"] == "roles/secretmanager.secretAccessor", name
        assert binding["member"] in runtime_accounts, name
    # The migrations job reads only the database password.
    migrations = [b for b in bindings.values() if "Migrations" in b["member"]]
    assert len(migrations) == 1 and "DbPgPassword" in migrations[0]["secret_id"]
    # No project-wide secret access.
    for name, member in synth.resources("google_project_iam_member").items():
        assert "secretmanager" not in member["role"], name
    assert json.dumps(bindings).count("allUsers") == 0


def test_set_value_from_refuses_a_literal():
    import pytest

    from constructs_lib.gcp import tf
    from constructs_lib.gcp.kms import KeyRing, grant_encrypt_decrypt
    from constructs_lib.gcp.secrets import Secret

    stack = tf.TerraformStack(tf.Testing.app(), "bare")
    keys = KeyRing(stack, "Kms", project="p-123456", location="us-central1", name="k", purposes=["secrets"])
    grant = grant_encrypt_decrypt(stack, "Grant", key=keys.key("secrets"), member="serviceAccount:x@y.iam.gserviceaccount.com")
    secret = Secret(stack, "S", project="p-123456", location="us-central1", secret_id="s", kms_key=keys.key("secrets"), key_grant=grant)
    with pytest.raises(ValueError, match="bare/S: set_value_from takes a resource attribute, not a literal value"):
        secret.set_value_from("hunter2")
    assert secret.version is None
    secret.set_value_from(keys.key("secrets").id)
    assert secret.version is not None
