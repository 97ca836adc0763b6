"""The GCP workflows: infrastructure never rolls out, a release rolls out by
digest only, the plan file never leaves the protected side, drift is scheduled.
Read from .github/workflows/gcp-*.yml; the release's input check is run."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
INFRA, RELEASE, DRIFT = "gcp-infrastructure.yml", "gcp-release.yml", "gcp-drift.yml"
GCP_WORKFLOWS = (INFRA, RELEASE, DRIFT)
ROLE_ACTIONS = ("google-github-actions/auth", "aws-actions/configure-aws-credentials")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_the_one_mixed_workflow_is_gone():
    assert not (WORKFLOWS / "deploy-gcp.yml").exists()
    for name in GCP_WORKFLOWS:
        assert (WORKFLOWS / name).is_file()


def test_infrastructure_never_rolls_out():
    doc = load(INFRA)
    text = (WORKFLOWS / INFRA).read_text()
    for job_name, job in doc["jobs"].items():
        body = runs(job)
        for forbidden in ("gcp-rollout", "gcloud run", "services update", "jobs execute", "GCP_DEPLOY_SERVICE_ACCOUNT"):
            assert forbidden not in body, f"{job_name} runs {forbidden}"
    assert "GCP_DEPLOY_SERVICE_ACCOUNT" not in text and "digest" not in str(doc[True]).lower()
    assert set(doc[True]) == {"pull_request", "push", "release"}
    assert runs(doc["jobs"]["review"]).count("bin/gcp-release plan --env staging --review") == 1
    assert set(doc["jobs"]) == {"review", "plan-staging", "apply-staging", "plan-production", "apply-production"}
    for env, event in (("staging", "push"), ("production", "release")):
        plan, apply = doc["jobs"][f"plan-{env}"], doc["jobs"][f"apply-{env}"]
        assert plan["if"] == f"github.event_name == '{event}'" and apply["if"] == plan["if"]
        assert plan["environment"] == f"gcp-{env}-plan" and apply["environment"] == f"gcp-{env}"
        assert f"bin/gcp-release plan --env {env} --keep-in-state-bucket" in runs(plan)
        assert apply["needs"] == f"plan-{env}"
        assert apply["env"]["APPROVAL_ID"] == f"${{{{ needs.plan-{env}.outputs.approval_id }}}}"
        assert f'bin/gcp-release apply --env {env} --approved "$APPROVAL_ID" --from-state-bucket' in runs(apply)
    assert "--auto" not in text and "cdktf deploy" not in text and "-auto-approve" not in text


def test_pull_requests_plan_staging_only_and_never_apply():
    doc = load(INFRA)
    review = doc["jobs"]["review"]
    assert review["if"] == "github.event_name == 'pull_request'" and review["environment"] == "gcp-staging-plan"
    for name, job in doc["jobs"].items():
        if name != "review":
            assert "pull_request" not in job["if"], name


def test_release_rolls_out_by_digest_only_then_smokes():
    doc = load(RELEASE)
    assert set(doc[True]) == {"workflow_dispatch", "repository_dispatch"}
    assert doc[True]["repository_dispatch"]["types"] == ["gcp-release"]
    inputs = doc[True]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"environment", "migrations_digest", "api_digest", "websocket_digest", "agent_digest"}
    assert set(doc["jobs"]) == {"check", "release-staging", "release-production"}
    for env in ("staging", "production"):
        job = doc["jobs"][f"release-{env}"]
        assert job["needs"] == "check" and job["if"] == f"needs.check.outputs.environment == '{env}'"
        assert job["environment"] == f"gcp-{env}-release"
        assert f'bin/gcp-smoke --env {env}' in runs(job) and f"bin/gcp-rollout --env {env}" in runs(job)
    release = doc["jobs"]["release-staging"]
    body = runs(release)
    rollouts = [line for line in body.splitlines() if "bin/gcp-rollout" in line]
    assert len(rollouts) == 1
    rollout_cmd = body[body.index("bin/gcp-rollout"):body.index("bin/gcp-smoke")]
    for image in ("migrations", "api", "websocket", "agent"):
        assert f'--digest "{image}=${{{image.upper()}_DIGEST}}"' in rollout_cmd
    assert "--tag" not in body and "GITHUB_SHA" not in (WORKFLOWS / RELEASE).read_text()
    # The smoke runs after the rollout, in the same job (a failed rollout skips it).
    assert body.index("bin/gcp-rollout") < body.index("bin/gcp-smoke --env staging")
    assert "gcp-release " not in body and "terraform" not in (WORKFLOWS / RELEASE).read_text().lower()


def _run_check(env: dict[str, str], tmp_path: Path) -> tuple[int, str, str]:
    script = runs(load(RELEASE)["jobs"]["check"])
    output = tmp_path / "out"
    output.write_text("")
    proc = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **env})
    return proc.returncode, proc.stdout + proc.stderr, output.read_text()


GOOD = {"REQUESTED_ENV": "staging", "MIGRATIONS_DIGEST": "sha256:" + "1" * 64, "API_DIGEST": "sha256:" + "2" * 64,
        "WEBSOCKET_DIGEST": "sha256:" + "3" * 64, "AGENT_DIGEST": "sha256:" + "4" * 64}


def test_release_check_passes_an_environment_and_four_digests(tmp_path):
    status, _, output = _run_check(GOOD, tmp_path)
    assert status == 0 and output == "environment=staging\n"


@pytest.mark.parametrize("field,value,message", [
    ("REQUESTED_ENV", "prod", "environment must be staging or production"),
    ("REQUESTED_ENV", "staging\nenvironment=production", "environment must be staging or production"),
    ("API_DIGEST", "latest", "api digest must be sha256:<64 hex>"),
    ("AGENT_DIGEST", "", "agent digest must be sha256:<64 hex>"),
    ("MIGRATIONS_DIGEST", "sha256:" + "1" * 64 + "\n", "migrations digest must be sha256:<64 hex>"),
    ("WEBSOCKET_DIGEST", "sha256:" + "3" * 64 + " --image evil", "websocket digest must be sha256:<64 hex>"),
])
def test_release_check_refuses_anything_else_before_any_credential(tmp_path, field, value, message):
    status, text, output = _run_check({**GOOD, field: value}, tmp_path)
    assert status == 1 and message in text and output == ""
    check = load(RELEASE)["jobs"]["check"]
    assert "environment" not in check and "id-token" not in check["permissions"]


@pytest.mark.parametrize("name,expected", [
    (INFRA, "gcp-infrastructure-${{ github.event_name == 'pull_request' && format('pr-{0}', github.event.pull_request.number) || (github.event_name == 'release' && 'production' || 'staging') }}"),
    (RELEASE, "gcp-release-${{ github.event.inputs.environment || github.event.client_payload.environment }}"),
])
def test_one_run_per_environment_at_a_time(name, expected):
    concurrency = load(name)["concurrency"]
    assert concurrency["group"] == expected
    if name == RELEASE:
        assert concurrency["cancel-in-progress"] is False


@pytest.mark.parametrize("name", [INFRA, DRIFT])
def test_terraform_is_pinned_at_or_above_1_11(name):
    version = load(name)["env"]["TERRAFORM_VERSION"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert tuple(int(p) for p in version.split(".")[:2]) >= (1, 11)
    for job in load(name)["jobs"].values():
        for step in steps(job):
            if str(step.get("uses", "")).startswith("hashicorp/setup-terraform"):
                assert step["with"]["terraform_version"] == "${{ env.TERRAFORM_VERSION }}"


@pytest.mark.parametrize("name", GCP_WORKFLOWS)
def test_no_plan_or_state_leaves_the_job(name):
    text = (WORKFLOWS / name).read_text()
    assert "upload-artifact" not in text and "download-artifact" not in text and "actions/cache" not in text
    assert ".approvals" not in text and "tfplan" not in text and "tfstate" not in text


@pytest.mark.parametrize("name", GCP_WORKFLOWS)
def test_checkouts_keep_no_token_and_role_jobs_use_no_package_cache(name):
    doc = load(name)
    text = (WORKFLOWS / name).read_text()
    assert "secrets[" not in text, "dynamic secrets context"
    for job_name, job in doc["jobs"].items():
        assumes = any(str(s.get("uses", "")).startswith(ROLE_ACTIONS) for s in steps(job))
        for step in steps(job):
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{job_name}: checkout keeps its token"
            if assumes and uses.startswith("actions/setup-node"):
                assert step["with"].get("package-manager-cache") is False, f"{job_name}: setup-node may cache"
            if assumes and uses.startswith("actions/setup-python"):
                assert "cache" not in step.get("with", {}), f"{job_name}: setup-python caches"


def test_drift_is_scheduled_per_environment_and_fails_on_any_difference():
    doc = load(DRIFT)
    assert doc[True]["schedule"] and "cron" in doc[True]["schedule"][0]
    job = doc["jobs"]["drift"]
    assert job["strategy"]["matrix"]["include"] == [{"env": "staging"}, {"env": "production"}]
    assert job["strategy"]["fail-fast"] is False
    assert job["environment"] == "gcp-${{ matrix.env }}-plan"
    body = runs(job)
    assert 'bin/gcp-release drift --env "${ENV_NAME}"' in body
    assert '"$GITHUB_STEP_SUMMARY"' in body and body.rstrip().endswith('exit "$status"')


def test_drift_step_passes_on_the_exit_status(tmp_path):
    """The step's own script: the command's failure is the job's failure, and the summary is written either way."""
    body = next(s["run"] for s in steps(load(DRIFT)["jobs"]["drift"]) if "detailed-exitcode" in s.get("name", ""))
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "gcp-release").write_text("#!/bin/sh\necho 'gcp-staging differs from its configuration:'\nexit 1\n")
    (fake_bin / "gcp-release").chmod(0o755)
    summary = tmp_path / "summary"
    proc = subprocess.run(["bash", "-e", "-c", body], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "ENV_NAME": "staging", "GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1
    assert "### gcp-staging drift (exit 1)" in summary.read_text() and "differs" in summary.read_text()
