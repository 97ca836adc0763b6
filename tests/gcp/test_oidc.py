"""OIDC concern: Workload Identity Federation pinned to the repository and environment."""

from __future__ import annotations

from envconfig.gcp import Environment


def test_github_provider_condition_pins_repository_and_environment(synth):
    gh = synth.config.github
    provider = synth.one("google_iam_workload_identity_pool_provider", "Oidc/Github")
    assert provider["oidc"]["issuer_uri"] == "https://token.actions.githubusercontent.com"
    condition = provider["attribute_condition"]
    assert f'assertion.sub == "repo:{gh.repository}:environment:{gh.environment}"' in condition
    assert f'assertion.repository == "{gh.repository}"' in condition
    assert "*" not in condition and "||" not in condition
    assert provider["attribute_mapping"]["google.subject"] == "assertion.sub"


def test_staging_is_also_pinned_to_main_production_to_its_approved_environment(gcp_synth):
    staging = gcp_synth[Environment.STAGING].one("google_iam_workload_identity_pool_provider", "Oidc/Github")
    assert 'assertion.ref == "refs/heads/main"' in staging["attribute_condition"]
    production = gcp_synth[Environment.PRODUCTION].one("google_iam_workload_identity_pool_provider", "Oidc/Github")
    assert ':environment:production"' in production["attribute_condition"]
    # Production deploys from release tags; the environment's approval is the gate.
    assert "assertion.ref" not in production["attribute_condition"]


def test_deploy_account_is_usable_only_through_the_pool(synth):
    deploy_sa = synth.ref("google_service_account", "Oidc/Github/DeployServiceAccount", "name")
    bindings = [b for b in synth.resources("google_service_account_iam_member").values() if b["service_account_id"] == deploy_sa]
    assert len(bindings) == 1
    assert bindings[0]["role"] == "roles/iam.workloadIdentityUser"
    pool = synth.ref("google_iam_workload_identity_pool", "Oidc/Github", "name")
    assert bindings[0]["member"] == f"principalSet://iam.googleapis.com/{pool}/attribute.repository/{synth.config.github.repository}"
    assert not synth.resources("google_service_account_key")


def test_deploy_roles_are_narrow(synth):
    members = {n: m for n, m in synth.resources("google_project_iam_member").items() if "/Oidc/Github/" in m["//"]["metadata"]["path"]}
    assert sorted(m["role"] for m in members.values()) == sorted(synth.config.oidc.deploy_roles)
    for name, member in members.items():
        assert member["role"] not in ("roles/owner", "roles/editor", "roles/iam.serviceAccountTokenCreator"), name
    act_as = [b for b in synth.resources("google_service_account_iam_member").values() if b["role"] == "roles/iam.serviceAccountUser"]
    assert len(act_as) == 4  # the three services and the migrations job, nothing else


def test_deploy_identity_may_back_up_cloud_sql_and_nothing_more(synth):
    """bin/gcp-rollout backs up Cloud SQL before migrations (seed 002 risk 3) as the deploy identity."""
    role = synth.one("google_project_iam_custom_role", "Oidc/RolloutBackup")
    assert role["permissions"] == ["cloudsql.backupRuns.create", "cloudsql.backupRuns.get", "cloudsql.instances.get"]
    binding = synth.one("google_project_iam_member", "Oidc/RolloutBackup")
    assert binding["role"] == synth.ref("google_project_iam_custom_role", "Oidc/RolloutBackup", "name")
    assert binding["member"] == "serviceAccount:" + synth.ref("google_service_account", "Oidc/Github/DeployServiceAccount", "email")
