"""Contract violations stop synth inside the Cloud Run constructs, with a message."""

from __future__ import annotations

import pytest
import yaml

from envconfig.contract import CONTRACT_FILE, ContractError, default_contract, load_contract

PLAIN = {
    "NODE_ENV": "production",
    "APP_ENV": "staging",
    "BETTER_AUTH_URL": "https://api.example.dev",
    "DB_PG_HOST": "10.0.0.3",
    "DB_PG_PORT": "5432",
    "DB_PG_DATABASE": "beep",
    "DB_PG_USER": "beep_app",
    "DB_PG_SSL": "true",
    "DB_PG_CA_CERT": "-----BEGIN CERTIFICATE-----",
    "DB_PG_POOL_MAX": "2",
    "KV_REDIS_CA_CERT": "-----BEGIN CERTIFICATE-----",
}
SECRET_NAMES = ("BETTER_AUTH_SECRET", "KV_REDIS_URL", "KV_REDIS_PASSWORD", "DB_PG_PASSWORD")


@pytest.fixture()
def bare():
    """A bare stack with a key and one secret per name: what a service needs."""
    from constructs_lib.gcp import tf
    from constructs_lib.gcp.kms import KeyRing, grant_encrypt_decrypt
    from constructs_lib.gcp.secrets import Secret

    stack = tf.TerraformStack(tf.Testing.app(), "bare")
    keys = KeyRing(stack, "Kms", project="p-123456", location="us-central1", name="k", purposes=["secrets"])
    grant = grant_encrypt_decrypt(stack, "Grant", key=keys.key("secrets"), member="serviceAccount:x@y.iam.gserviceaccount.com")
    secrets = {
        n: Secret(stack, n.title().replace("_", ""), project="p-123456", location="us-central1", secret_id=n.lower().replace("_", "-"),
                  kms_key=keys.key("secrets"), key_grant=grant)
        for n in SECRET_NAMES + ("CLOUD_AWS_REGION",)
    }
    for secret in secrets.values():
        secret.generate_value()
    return tf, stack, secrets


def _service(stack, *, plain, secrets, service="api"):
    from constructs_lib.gcp.cloud_run import CloudRunService

    return CloudRunService(
        stack, "Api", project="p-123456", region="us-central1", name="api", account_id="api-sa", image="r/i:t", port=8080,
        cpu="1", memory="512Mi", min_instances=0, max_instances=2, public=False,
        contract=default_contract().service(service), plain_env=plain, secret_env=secrets,
        network_id="n", subnet_id="s",
    )


def _secrets(all_secrets, names=SECRET_NAMES):
    return {n: all_secrets[n] for n in names}


def test_a_valid_environment_builds(bare):
    _, stack, secrets = bare
    service = _service(stack, plain=PLAIN, secrets=_secrets(secrets))
    assert set(service.env) == set(PLAIN) | set(SECRET_NAMES)
    assert len(service.secret_bindings) == len(SECRET_NAMES)


def test_a_secret_without_a_version_is_refused(bare):
    """A revision reading `latest` of an empty secret fails at its first start."""
    from constructs_lib.gcp.kms import KeyRing, grant_encrypt_decrypt
    from constructs_lib.gcp.secrets import Secret

    _, stack, secrets = bare
    keys = KeyRing(stack, "Kms2", project="p-123456", location="us-central1", name="k2", purposes=["secrets"])
    grant = grant_encrypt_decrypt(stack, "Grant2", key=keys.key("secrets"), member="serviceAccount:x@y.iam.gserviceaccount.com")
    empty = Secret(stack, "Empty", project="p-123456", location="us-central1", secret_id="empty", kms_key=keys.key("secrets"), key_grant=grant)
    with pytest.raises(ValueError, match=r"bare/Api/Identity: secrets \['BETTER_AUTH_SECRET'\] have no Terraform-managed version"):
        _service(stack, plain=PLAIN, secrets={**_secrets(secrets), "BETTER_AUTH_SECRET": empty})


def test_a_secret_gets_one_terraform_managed_version_only(bare):
    _, _, secrets = bare
    with pytest.raises(ValueError, match="already has a Terraform-managed version"):
        secrets["KV_REDIS_URL"].set_value_from("${google_redis_instance.r.host}")


def test_legacy_name_is_rejected(bare):
    _, stack, secrets = bare
    with pytest.raises(ContractError, match=r"env_contract.yaml: services.api \(environment built by bare/Api\): REDIS_URL: is not in the environment contract"):
        _service(stack, plain={**PLAIN, "REDIS_URL": "redis://x"}, secrets=_secrets(secrets))


def test_secret_as_plain_value_is_rejected(bare):
    _, stack, secrets = bare
    with pytest.raises(ContractError, match="BETTER_AUTH_SECRET: is a secret and must be injected as a secret reference, never as a plain value"):
        _service(stack, plain={**PLAIN, "BETTER_AUTH_SECRET": "hunter2"},
                 secrets=_secrets(secrets, ("KV_REDIS_URL", "KV_REDIS_PASSWORD", "DB_PG_PASSWORD")))


def test_missing_required_is_rejected(bare):
    _, stack, secrets = bare
    with pytest.raises(ContractError, match=r"KV_REDIS_PASSWORD: is required by the contract but missing"):
        _service(stack, plain=PLAIN, secrets=_secrets(secrets, ("BETTER_AUTH_SECRET", "KV_REDIS_URL", "DB_PG_PASSWORD")))


def test_plain_variable_as_secret_is_rejected(bare):
    _, stack, secrets = bare
    with pytest.raises(ContractError, match="CLOUD_AWS_REGION: is passed as a secret reference but the contract does not mark it secret: if it holds a secret, add `secret: true`"):
        _service(stack, plain=PLAIN, secrets=_secrets(secrets, SECRET_NAMES + ("CLOUD_AWS_REGION",)))


def test_job_uses_the_migrations_contract(bare):
    from constructs_lib.gcp.cloud_run import MigrationsJob

    _, stack, secrets = bare
    with pytest.raises(ContractError, match=r"services.migrations .*: BETTER_AUTH_SECRET: is not in the environment contract"):
        MigrationsJob(
            stack, "Migrations", project="p-123456", region="us-central1", name="m", account_id="m-sa", image="r/i:t",
            cpu="1", memory="512Mi", timeout_seconds=600, contract=default_contract().service("migrations"),
            plain_env={k: v for k, v in PLAIN.items() if k != "BETTER_AUTH_URL"},
            secret_env=_secrets(secrets, ("DB_PG_PASSWORD", "BETTER_AUTH_SECRET")), network_id="n", subnet_id="s",
        )


def test_the_stack_builds_every_environment_through_the_contract(tmp_path):
    """A contract that requires one more variable stops the whole stack."""
    from constructs_lib.gcp import tf
    from envconfig.gcp import load_environment
    from stacks.gcp.platform import GcpPlatformStack

    data = yaml.safe_load(CONTRACT_FILE.read_text())
    data["services"]["websocket"] = {"variables": {**data["services"]["websocket"]["variables"], "WS_PATH": {"required": True}}}
    path = tmp_path / "env_contract.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContractError, match=r"services.websocket \(environment built by gcp-staging/Runtime/Websocket\): WS_PATH: is required"):
        GcpPlatformStack(tf.Testing.app(), config=load_environment("staging"), contract=load_contract(path))
