"""bin/ops plan / deploy: order of steps, and production only with the approved diff (no AWS, injected runner)."""

from __future__ import annotations

import hashlib
import io
import subprocess

import pytest

from envconfig.aws import load
from opscli import release
from opscli.errors import CheckFailed, OpsError

DIFF = "Stack Production-Data\nResources\n[~] AWS::CloudWatch::Alarm ... Threshold 10 -> 20\n"


class FakeRunner:
    def __init__(self, diff: str = DIFF, fail: str | None = None):
        self.calls: list[str] = []
        self.diff, self.fail = diff, fail

    def __call__(self, cmd):
        step = "gates" if "gates.run" in cmd else cmd[3]
        self.calls.append(step)
        out = self.diff if step == "diff" else ""
        return subprocess.CompletedProcess(cmd, 1 if step == self.fail else 0, out, "boom" if step == self.fail else "")


@pytest.fixture(autouse=True)
def _assembly(tmp_path, monkeypatch):
    monkeypatch.setattr(release, "ASSEMBLY", tmp_path / "cdk.out")
    monkeypatch.setattr(release, "ROOT", tmp_path)


def _sha(text: str) -> str:
    return hashlib.sha256((text.strip() + "\n").encode()).hexdigest()


def test_staging_runs_gates_diff_deploy_verify_in_order():
    runner, verified = FakeRunner(), []
    code = release.deploy(load("staging"), approved_sha256=None, verify=lambda: verified.append(1) or 0, runner=runner, out=io.StringIO())
    assert code == 0 and runner.calls == ["gates", "diff", "deploy"] and verified == [1]


def test_plan_writes_the_diff_and_its_hash(tmp_path):
    out = io.StringIO()
    plan = release.plan(load("production"), runner=FakeRunner(), out=out)
    assert plan.sha256 == _sha(DIFF)
    assert (tmp_path / "cdk.out" / "production.diff").read_text() == DIFF
    assert f"diff sha256: {plan.sha256}" in out.getvalue()


def test_production_refuses_without_an_approval():
    runner = FakeRunner()
    with pytest.raises(OpsError, match="production deploys only an approved diff"):
        release.deploy(load("production"), approved_sha256=None, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == []


def test_production_refuses_when_the_diff_changed_since_approval():
    runner = FakeRunner(diff=DIFF + "[+] AWS::IAM::Role Surprise\n")
    with pytest.raises(CheckFailed, match="the diff changed since it was approved"):
        release.deploy(load("production"), approved_sha256=_sha(DIFF), verify=lambda: 0, runner=runner, out=io.StringIO())
    assert "deploy" not in runner.calls


def test_production_deploys_the_approved_diff():
    runner = FakeRunner()
    code = release.deploy(load("production"), approved_sha256=_sha(DIFF).upper(), verify=lambda: 0, runner=runner, out=io.StringIO())
    assert code == 0 and runner.calls == ["gates", "diff", "deploy"]


def test_failed_gates_stop_before_the_diff():
    runner = FakeRunner(fail="gates")
    with pytest.raises(CheckFailed, match="policy gates failed"):
        release.deploy(load("staging"), approved_sha256=None, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == ["gates"]


def test_failed_deploy_skips_verification():
    verified = []
    with pytest.raises(CheckFailed, match="cdk deploy failed"):
        release.deploy(load("staging"), approved_sha256=None, verify=lambda: verified.append(1) or 0, runner=FakeRunner(fail="deploy"), out=io.StringIO())
    assert verified == []


def test_cli_refuses_an_unapproved_production_deploy(capsys):
    from opscli.aws_ops import main

    assert main(["deploy", "--env", "production"]) == 2
    assert "production deploys only an approved diff" in capsys.readouterr().err


def test_cli_readiness_needs_synth_output(tmp_path, monkeypatch, capsys):
    from opscli import readiness
    from opscli.aws_ops import main

    original = readiness.load_artifacts
    monkeypatch.setattr(readiness, "load_artifacts", lambda config: original(config, cdk_out=tmp_path, cdktf_out=tmp_path))
    assert main(["readiness", "--env", "staging"]) == 2
    assert "run bin/synth first" in capsys.readouterr().err


def test_credential_and_progress_notices_are_not_part_of_the_approved_diff():
    noisy = ("Could not assume role arn:aws:iam::1:role/cdk-hnb659fds-deploy-role-1-us-east-1, proceeding anyway.\n"
             + DIFF + "\n✨  Number of stacks with differences: 1\n")
    plan = release.plan(load("production"), runner=FakeRunner(diff=noisy), out=io.StringIO())
    assert plan.sha256 == _sha(DIFF)
