"""The workflows' hardening (docs/requirements.md#workflows), read from .github/workflows/*.yml."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / ".github" / "workflows").glob("*.yml"))
ROLE_ACTIONS = ("aws-actions/configure-aws-credentials", "google-github-actions/auth")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_with_its_version(path):
    for line in path.read_text().splitlines():
        if re.match(r"^\s*(-\s*)?uses:", line):
            assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_id_token_only_on_jobs_that_assume_a_role(path):
    doc = load(path)
    assert "id-token" not in (doc.get("permissions") or {}), f"{path.name}: id-token at workflow level"
    for name, job in doc["jobs"].items():
        assumes = any(str(s.get("uses", "")).startswith(ROLE_ACTIONS) for s in steps(job))
        wants = (job.get("permissions") or {}).get("id-token") == "write"
        assert wants == assumes, f"{path.name}: job {name}: id-token write={wants}, assumes a role={assumes}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_clis_run_on_a_supported_node(path):
    for name, job in load(path)["jobs"].items():
        versions = [s["with"]["node-version"] for s in steps(job) if str(s.get("uses", "")).startswith("actions/setup-node")]
        assert versions in ([], ["22"]), f"{path.name}: job {name}: node {versions}"


# The GCP workflows: tests/gcp/test_gcp_workflows.py.


def test_production_deploys_the_planned_assembly_by_its_id():
    doc = load(next(p for p in WORKFLOWS if p.name == "deploy-production.yml"))
    plan, deploy = doc["jobs"]["plan"], doc["jobs"]["deploy"]
    assert plan["environment"] == "production-plan" and deploy["environment"] == "production"
    assert deploy["needs"] == "plan"
    runs = "\n".join(s.get("run", "") for s in steps(deploy))
    assert 'bin/ops deploy --env production --no-verify --approved "$APPROVAL_ID"' in runs


def test_scheduled_drift_judges_against_the_recorded_approval_not_the_checkout():
    """detect-drift compares live stacks with the assembly the account records as deployed
    (docs/requirements.md#verify-and-drift): the job rebuilds it from the recorded commit,
    checks the id, and points detect-drift at it."""
    drift_yml = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "drift.yml"
    steps = yaml.safe_load(drift_yml.read_text())["jobs"]["aws"]["steps"]
    names = [s.get("name", s.get("run", "")) for s in steps]
    rebuild = next(i for i, s in enumerate(steps) if s.get("name", "").startswith("Rebuild the deployed assembly"))
    drift = next(i for i, s in enumerate(steps) if "bin/ops detect-drift" in s.get("run", ""))
    assert rebuild < drift, names
    script = steps[rebuild]["run"]
    assert "deployed_approval_parameter" in script and "bin/ops plan" in script
    assert 'grep -qx "approval id: $id"' in script  # the rebuilt assembly must be the recorded one
    assert steps[drift]["env"]["OPS_APPROVALS_DIR"] == "${{ github.workspace }}/.approvals"
