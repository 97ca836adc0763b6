"""Approval = digest of the artifact, end to end against the local AWS target (docs/requirements.md#approval).

One target for the module (deployed by ``bin/deploy-local``), then the
operator's path: ``bin/ops plan`` twice from fresh processes, ``deploy
--approved``, a configuration change after approval, a trust-policy change
in the plan, an unreachable endpoint, a malformed id, and ``rollback``.
Tests run in file order and build on each other.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_lifecycle import CONFIG, REPO, Target, timed, TIMES

pytestmark = pytest.mark.e2e
OPS = str(REPO / "bin" / "ops")
ID_LINE = re.compile(r"^approval id: ([0-9a-f]{64})$", re.MULTILINE)
IDS: dict[str, str] = {}


@pytest.fixture(scope="module")
def target(tmp_path_factory, gates_cache_dir):
    t = Target(tmp_path_factory.mktemp("approval"), gates_cache_dir)
    t.env["OPS_APPROVALS_DIR"] = str(t.tmp / "approvals")
    # The CLIs as bin/env.sh sets them up (the supported Node), as an operator's shell has them.
    t.env["PATH"] = f"{REPO}/bin/shims:{t.env['PATH']}"
    try:
        yield t
    finally:
        t.stop()
        for name, seconds in TIMES.items():
            print(f"e2e timing: {name} {seconds:.1f}s")


def edited_config(tmp: Path, mutate) -> dict[str, str]:
    config_dir = tmp / "config"
    shutil.copytree(REPO / "config", config_dir)
    path = config_dir / "aws" / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))
    return {"MD_CONFIG_DIR": str(config_dir)}


def approval_id(result) -> str:
    ids = ID_LINE.findall(result.stdout)
    assert len(ids) == 1, result.stdout[-3000:]
    return ids[0]


def gate_counts(stdout: str) -> dict[str, str]:
    """Each gate's step line, e.g. {"cfn-lint": "11 templates, 10 unchanged since they passed, 1 checked"}."""
    return dict(re.findall(r"^==> (cfn-lint|checkov \([^)]*\)): (.*)$", stdout, re.MULTILINE))


def test_deploy_local_gates_once_and_skips_them_when_nothing_changed(target):
    first = timed("bin/deploy-local (first)", lambda: target.run(str(REPO / "bin" / "deploy-local")))
    assert "all gates passed" in first.stdout and "gates skipped" not in first.stdout
    # every file went through every gate (checked now, or earlier in this session under the same key)
    assert sorted(gate_counts(first.stdout)) == ["cfn-lint", "checkov (CloudFormation)", "checkov (Terraform JSON)"]
    again = timed("bin/deploy-local (nothing changed)", lambda: target.run(str(REPO / "bin" / "deploy-local")))
    assert "gates skipped" in again.stdout and "cfn-lint" not in again.stdout
    assert "0 failed" in again.stdout


def test_deploy_local_gates_again_when_the_assembly_changed(target, tmp_path):
    env = edited_config(tmp_path, lambda d: d["runtime"].update(memory_mb=512))
    changed = timed("bin/deploy-local (one stack changed)", lambda: target.run(str(REPO / "bin" / "deploy-local"), env=env))
    assert "all gates passed" in changed.stdout and "gates skipped" not in changed.stdout
    # Only Staging's Runtime template differs from what passed: it, and only it, is checked by both AWS gates.
    counts = gate_counts(changed.stdout)
    assert counts["cfn-lint"] == counts["checkov (CloudFormation)"] == "11 templates, 10 unchanged since they passed, 1 checked"
    assert changed.stdout.count("    checking: StagingRuntime") == 2
    assert counts["checkov (Terraform JSON)"] == "2 stacks, 2 unchanged since they passed, 0 checked"
    back = target.run(str(REPO / "bin" / "deploy-local"))  # the repository's config again: gated again
    assert "all gates passed" in back.stdout and "gates skipped" not in back.stdout
    assert gate_counts(back.stdout)["cfn-lint"] == "11 templates, 11 unchanged since they passed, 0 checked"


def test_plan_twice_from_fresh_processes_gives_the_same_id(target):
    first = timed("bin/ops plan", lambda: target.run(OPS, "plan", "--env", "staging"))
    second = target.run(OPS, "plan", "--env", "staging")
    IDS["staging"] = approval_id(first)
    assert approval_id(second) == IDS["staging"]
    assert first.stdout.rstrip().endswith(f"approval id: {IDS['staging']}")
    print(f"staging approval id (two fresh runs): {IDS['staging']}")


def test_deploy_with_the_approved_id_succeeds(target):
    result = timed("bin/ops deploy --approved", lambda: target.run(
        OPS, "deploy", "--env", "staging", "--approved", IDS["staging"]))
    assert f"deployed: Staging is at approval id {IDS['staging']}" in result.stdout
    assert "synthesizing" not in result.stdout  # nothing changed: no second synthesis


def test_a_config_change_after_approval_is_refused_naming_the_stack(target, tmp_path):
    env = edited_config(tmp_path, lambda d: d["observability"]["thresholds"]["table_throttle"].update(threshold=5))
    result = target.run(OPS, "deploy", "--env", "staging", "--approved", IDS["staging"], env=env, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the templates of Staging-Observability changed since approval" in result.stderr
    assert "cdk deploy" not in result.stdout


def test_a_trust_condition_change_appears_verbatim_in_the_plan(target, tmp_path):
    # a new consumer repository: the consumer role's trust condition gains its subject
    env = edited_config(tmp_path, lambda d: d["github"]["oracle_consumers"].update({"PhaseMirror/Other-Repo": {"environments": ["staging"]}}))
    result = target.run(OPS, "plan", "--env", "staging", env=env)
    IDS["changed"] = approval_id(result)
    assert IDS["changed"] != IDS["staging"]
    assert "repo:PhaseMirror/Other-Repo:environment:staging" in result.stdout
    assert "sts:AssumeRoleWithWebIdentity" in result.stdout  # the old filter removed every "Assum..." line
    assert "{{resolve:ssm:/mirror-dissonance/staging/infra/data-key-arn}}" in result.stdout
    # the plan gated the one template the change touched (the others passed earlier, byte for byte)
    counts = gate_counts(result.stdout)
    assert counts["cfn-lint"] == counts["checkov (CloudFormation)"] == "11 templates, 10 unchanged since they passed, 1 checked"
    assert result.stdout.count("    checking: StagingOidc") == 2
    deployed = target.run(OPS, "deploy", "--env", "staging", "--approved", IDS["changed"], env=env)
    assert "deployed: Staging is at approval id" in deployed.stdout


def test_rollback_redeploys_the_earlier_assembly(target):
    result = timed("bin/ops rollback", lambda: target.run(OPS, "rollback", "--env", "staging", "--to", IDS["staging"]))
    assert f"rolled back: Staging is at approval id {IDS['staging']}" in result.stdout
    role = target.client("iam").list_roles()["Roles"]
    trusts = str([r["AssumeRolePolicyDocument"] for r in role])
    assert "repo:PhaseMirror/Phase-Mirror:environment:staging" in trusts
    assert "Other-Repo" not in trusts
    listed = target.run(OPS, "rollback", "--env", "staging", "--list").stdout
    assert f"rolled back {IDS['staging']}" in listed.splitlines()[-1]


def test_plan_with_unreachable_aws_fails_without_an_id(target):
    result = target.run(OPS, "plan", "--env", "staging", env={"AWS_ENDPOINT_URL": "http://localhost:1"}, check=False)
    assert result.returncode == 2
    assert not ID_LINE.search(result.stdout + result.stderr)
    # checked before the synthesis: the cause, in one line, within seconds
    assert "cannot identify the AWS account of these credentials" in result.stderr
    assert "localhost:1" in result.stderr and "==> gates" not in result.stdout


def test_a_malformed_id_exits_2_before_any_synth_or_cloud_call(target):
    result = target.run(OPS, "deploy", "--env", "production", "--approved", "nonsense", check=False,
                        env={"AWS_ENDPOINT_URL": "http://localhost:1"})
    assert result.returncode == 2
    assert "an approval id is 64 hexadecimal digits" in result.stderr
    assert result.stdout == ""  # no step started
