"""OIDC concern: Workload Identity Federation, one GitHub environment per purpose."""

from __future__ import annotations

from envconfig.gcp import Environment


REPO = "PhaseMirror/Phase-Mirror"  # both clouds' infrastructure repository (docs/operations.md, trust table)


def test_github_provider_admits_exactly_the_three_purposes(gcp_synth):
    for env in (Environment.STAGING, Environment.PRODUCTION):
        e = env.value
        provider = gcp_synth[env].one("google_iam_workload_identity_pool_provider", "Oidc/Github")
        assert provider["oidc"]["issuer_uri"] == "https://token.actions.githubusercontent.com"
        assert provider["attribute_condition"] == (
            f'assertion.repository == "{REPO}" && (assertion.sub == "repo:{REPO}:environment:gcp-{e}" || '
            f'assertion.sub == "repo:{REPO}:environment:gcp-{e}-plan" || assertion.sub == "repo:{REPO}:environment:gcp-{e}-release")')
        assert provider["attribute_mapping"]["google.subject"] == "assertion.sub"
        assert "attribute.ref" not in provider["attribute_mapping"]  # trust goes to environments, never a branch


def test_each_identity_is_bound_to_exactly_one_subject(gcp_synth):
    for env in (Environment.STAGING, Environment.PRODUCTION):
        synth, e = gcp_synth[env], env.value
        pool = synth.ref("google_iam_workload_identity_pool", "Oidc/Github", "name")
        wif = [b for b in synth.resources("google_service_account_iam_member").values() if b["role"] == "roles/iam.workloadIdentityUser"]
        members = sorted(b["member"] for b in wif)
        assert members == sorted([f"principal://iam.googleapis.com/{pool}/subject/repo:{REPO}:environment:gcp-{e}",
                                  f"principal://iam.googleapis.com/{pool}/subject/repo:{REPO}:environment:gcp-{e}-release"])
        assert not any("principalSet" in m for m in members)


def test_a_subject_shared_by_two_gcp_purposes_is_refused():
    import pytest

    from constructs_lib.gcp import tf
    from constructs_lib.gcp.workload_identity import GithubWorkloadIdentity

    stack = tf.TerraformStack(tf.App(), "t")
    same = f"repo:{REPO}:environment:gcp-staging"
    with pytest.raises(ValueError, match="apply, plan and release need distinct GitHub environments"):
        GithubWorkloadIdentity(stack, "Github", project="p", pool_id="pool", account_id="deploy", repository=REPO,
                               apply_subject=same, plan_subject=same + "-plan", release_subject=same, deploy_roles=[], act_as=[])


def test_deploy_account_is_usable_only_through_the_pool(synth):
    deploy_sa = synth.ref("google_service_account", "Oidc/Github/DeployServiceAccount", "name")
    bindings = [b for b in synth.resources("google_service_account_iam_member").values() if b["service_account_id"] == deploy_sa]
    assert len(bindings) == 1
    assert bindings[0]["role"] == "roles/iam.workloadIdentityUser"
    pool = synth.ref("google_iam_workload_identity_pool", "Oidc/Github", "name")
    assert bindings[0]["member"] == f"principal://iam.googleapis.com/{pool}/subject/repo:{REPO}:environment:gcp-{synth.config.environment.value}-release"
    assert not synth.resources("google_service_account_key")


def test_deploy_roles_are_narrow(synth):
    members = {n: m for n, m in synth.resources("google_project_iam_member").items() if "/Oidc/Github/" in m["//"]["metadata"]["path"]}
    assert sorted(m["role"] for m in members.values()) == sorted(synth.config.oidc.deploy_roles)
    for name, member in members.items():
        assert member["role"] not in ("roles/owner", "roles/editor", "roles/iam.serviceAccountTokenCreator"), name
    act_as = [b for b in synth.resources("google_service_account_iam_member").values() if b["role"] == "roles/iam.serviceAccountUser"]
    assert len(act_as) == 4  # the three services and the migrations job, nothing else


def test_deploy_identity_may_back_up_cloud_sql_and_nothing_more(synth):
    """bin/gcp-rollout backs up Cloud SQL before migrations (docs/requirements.md#gcp-release) as the deploy identity."""
    role = synth.one("google_project_iam_custom_role", "Oidc/RolloutBackup")
    assert role["permissions"] == ["cloudsql.backupRuns.create", "cloudsql.backupRuns.get", "cloudsql.instances.get"]
    binding = synth.one("google_project_iam_member", "Oidc/RolloutBackup")
    assert binding["role"] == synth.ref("google_project_iam_custom_role", "Oidc/RolloutBackup", "name")
    assert binding["member"] == "serviceAccount:" + synth.ref("google_service_account", "Oidc/Github/DeployServiceAccount", "email")
